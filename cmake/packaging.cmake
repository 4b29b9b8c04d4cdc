# Debian packages of Beatbook (CPack DEB), one per component; in a built tree:
#   cpack -G DEB -B OUT_DIR        (scripts/package-test.sh makes, installs and removes them)
#   beatbook-common  the forms, code lists, indicators and retention policy (schema/), which both
#                    programs read from <program's directory>/../share/beatbook/schema
#   beatbook-server  sync_server, its systemd units (the service and a daily backup), the config
#                    /etc/beatbook/sync_server.conf (a conffile) and the maintainer scripts that
#                    make its user, directories and backup key (packaging/)
#   beatbook-field   field_client
# Paths in the packages are Debian's whatever CMAKE_INSTALL_PREFIX is: CPack installs with
# CPACK_PACKAGING_INSTALL_PREFIX (/usr), and the units and config have absolute destinations.

set(_pkg "${PROJECT_SOURCE_DIR}/packaging")

install(TARGETS sync_server RUNTIME DESTINATION bin COMPONENT server)
install(TARGETS field_client RUNTIME DESTINATION bin COMPONENT field)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/schema/" DESTINATION share/beatbook/schema
        COMPONENT common FILES_MATCHING PATTERN "*.json")
install(FILES "${_pkg}/beatbook-server.service" "${_pkg}/beatbook-backup.service"
              "${_pkg}/beatbook-backup.timer"
        DESTINATION /lib/systemd/system COMPONENT server)
install(FILES "${_pkg}/sync_server.conf" DESTINATION /etc/beatbook COMPONENT server)

set(CPACK_PACKAGE_NAME beatbook)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "Beatbook maintainers <maintainers@users.noreply.r-seed-f83962d7.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
# Only these: anything installed without a component stays out of the packages.
set(CPACK_COMPONENTS_ALL common server field)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION_ARCH.deb
# Depends on the shared libraries the programs link (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Maintainer scripts 0755 and conffiles 0644 in the package, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Both programs need the forms of exactly their own version: "beatbook-common (= VERSION)". (No
# CPACK_DEBIAN_PACKAGE_RELEASE: CPack would leave it out of this "=", which could then never
# be met.)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_COMPONENT_SERVER_DEPENDS common)
set(CPACK_COMPONENT_FIELD_DEPENDS common)

set(CPACK_DEBIAN_COMMON_PACKAGE_NAME beatbook-common)
set(CPACK_DEBIAN_COMMON_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_COMMON_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_COMMON_DESCRIPTION "Beatbook forms and indicators
The forms field workers fill in, their code lists, the community safety
partnership's performance indicators and the records retention policy, as
JSON files read by the Beatbook sync server and field tool.")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME beatbook-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS adduser)  # postinst makes the beatbook user
set(CPACK_DEBIAN_SERVER_DESCRIPTION "Beatbook sync server: the partnership's central store
Receives the records field tablets log offline, keeps them in one central
store, and serves the quarterly return, a dashboard for the coordinator and
board, and exports. Runs as a systemd service under its own user, with a
daily encrypted backup of the store. Configure it in
/etc/beatbook/sync_server.conf.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${_pkg}/beatbook-server/conffiles" "${_pkg}/beatbook-server/postinst"
    "${_pkg}/beatbook-server/prerm" "${_pkg}/beatbook-server/postrm")

set(CPACK_DEBIAN_FIELD_PACKAGE_NAME beatbook-field)
set(CPACK_DEBIAN_FIELD_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_FIELD_DESCRIPTION "Beatbook field tool: log records offline and sync them
The tool outreach workers, patrol officers and partner leads use to log
contacts, patrols, surveys and returns on a tablet without signal, keep them
encrypted on the device, and sync them with the sync server when there is
signal. Includes a touch app served from the tablet itself.")

include(CPack)
