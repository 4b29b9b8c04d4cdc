// Named fault points: places in the code where a test can make the process die on purpose.
//
// Set the environment variable BEATBOOK_FAULT to "NAME" (die at the first hit of that point) or
// "NAME:N" (die at the Nth hit). The process then kills itself with SIGKILL, as a power cut would,
// without flushing or unwinding anything. With the variable unset a fault point costs one branch.
//
// Points in the code base (grep for BB_FAULT_POINT): "store.log.before_commit",
// "store.ack.before_commit", "store.pull.before_commit", "server.push.before_commit",
// "server.push.after_commit".
#pragma once

namespace beatbook {

void HitFaultPoint(const char* name);

// A numeric fault setting from the environment variable `env_name`, or 0 if unset. Used for
// "BEATBOOK_FAULT_STORE_MAX_PAGES": the central store then refuses to grow past that many pages,
// as a full disk would (SQLITE_FULL).
long FaultSetting(const char* env_name);

#define BB_FAULT_POINT(name) ::beatbook::HitFaultPoint(name)

}  // namespace beatbook
