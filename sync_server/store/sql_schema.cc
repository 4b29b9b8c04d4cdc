#include "sync_server/store/sql_schema.h"

#include <utility>

namespace beatbook::server {

namespace {

struct DialectWord {
  const char* placeholder;
  const char* sqlite;
  const char* postgres;
};

// Where the engines spell a thing differently. SQLite stores what any integer or real column
// holds; PostgreSQL's INTEGER and REAL are 32-bit, too small for milliseconds and sums.
const DialectWord kWords[] = {
    {"{{int64}}", "INTEGER", "BIGINT"},
    {"{{real}}", "REAL", "DOUBLE PRECISION"},
    // A row id the engine assigns in increasing order.
    {"{{serial_key}}", "INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"},
    {"{{serial_key_never_reused}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"},
    // "user" is a reserved word in PostgreSQL (step 6 renames these columns to user_name).
    {"{{user}}", "user", "\"user\""},
    // A record's place in the change feed: on PostgreSQL NULL only inside the transaction that
    // saved it, numbered from record_seq at commit (store/pg_session.h).
    {"{{record_seq_source}}", "", "CREATE SEQUENCE record_seq;"},
    {"{{record_seq_column}}", "INTEGER NOT NULL UNIQUE", "BIGINT UNIQUE"},
    // The audit log refuses changes and deletions (and, on PostgreSQL, TRUNCATE).
    {"{{audit_append_only}}",
     R"sql(CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;)sql",
     R"sql(CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
        CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
          FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
          FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();)sql"},
};

}  // namespace

std::string SchemaText(const SchemaStep& step, SqlDialect dialect) {
  std::string text = step.text;
  for (const auto& word : kWords) {
    const std::string placeholder = word.placeholder;
    const std::string spelled = dialect == SqlDialect::kSqlite ? word.sqlite : word.postgres;
    for (std::size_t at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + spelled.size())) {
      text.replace(at, placeholder.size(), spelled);
    }
  }
  return text;
}

const std::vector<SchemaStep>& CentralSchemaSteps() {
  static const std::vector<SchemaStep> kSteps = {
      // 1: records and the change feed, sign-in codes, devices, batch replies, conflicts,
      // rejections.
      {1, R"sql(
        {{record_seq_source}}
        CREATE TABLE records(
          id TEXT PRIMARY KEY,
          form TEXT NOT NULL,
          form_version INTEGER NOT NULL,
          org TEXT NOT NULL,
          author TEXT NOT NULL,
          device TEXT NOT NULL,
          occurred_at TEXT NOT NULL,
          deleted INTEGER NOT NULL,
          seq {{record_seq_column}},
          state TEXT NOT NULL);
        CREATE INDEX records_by_org_seq ON records(org, seq);
        CREATE TABLE tokens(
          hash TEXT PRIMARY KEY,
          {{user}} TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL,
          created_ms {{int64}} NOT NULL, expires_ms {{int64}} NOT NULL,
          used_ms {{int64}}, used_by TEXT);
        CREATE TABLE devices(
          id TEXT PRIMARY KEY,
          secret_hash TEXT NOT NULL,
          name TEXT NOT NULL,
          {{user}} TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL,
          enrolled_ms {{int64}} NOT NULL,
          last_sync_ms {{int64}} NOT NULL DEFAULT 0,
          pending_at_last_sync {{int64}} NOT NULL DEFAULT 0,
          revoked INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE batches(
          device TEXT NOT NULL, batch_id TEXT NOT NULL, response TEXT NOT NULL,
          at_ms {{int64}} NOT NULL, PRIMARY KEY(device, batch_id));
        CREATE TABLE conflicts(
          id {{serial_key}},
          record_id TEXT NOT NULL, field TEXT NOT NULL,
          winner TEXT NOT NULL, loser TEXT NOT NULL,
          loser_t {{int64}} NOT NULL, loser_d TEXT NOT NULL,
          at_ms {{int64}} NOT NULL,
          UNIQUE(record_id, field, loser_t, loser_d));
        CREATE TABLE rejections(
          device TEXT NOT NULL, change_id TEXT NOT NULL, record_id TEXT NOT NULL,
          reason TEXT NOT NULL, at_ms {{int64}} NOT NULL,
          PRIMARY KEY(device, change_id));
      )sql"},
      // 2: indicators kept current as records merge, and approved quarters.
      {2, R"sql(
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE contributions(
          record_id TEXT NOT NULL, indicator TEXT NOT NULL,
          fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          value {{real}} NOT NULL, n {{real}} NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL,
          stamp {{int64}} NOT NULL, at_ms {{int64}} NOT NULL,
          PRIMARY KEY(record_id, indicator));
        CREATE INDEX contributions_by_period ON contributions(indicator, fy, quarter);
        -- Milestone statuses are few: a partial index keeps the report from scanning the rest.
        CREATE INDEX contributions_milestones ON contributions(fy, stamp) WHERE status <> '';
        CREATE TABLE totals(
          indicator TEXT NOT NULL, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          value {{real}} NOT NULL DEFAULT 0, n {{real}} NOT NULL DEFAULT 0,
          records {{int64}} NOT NULL DEFAULT 0,
          PRIMARY KEY(indicator, fy, quarter));
        CREATE TABLE distinct_keys(
          indicator TEXT NOT NULL, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          key TEXT NOT NULL, refs {{int64}} NOT NULL,
          PRIMARY KEY(indicator, fy, quarter, key));
        CREATE TABLE approvals(
          id {{serial_key}}, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          kind TEXT NOT NULL, {{user}} TEXT NOT NULL, at_ms {{int64}} NOT NULL,
          catalogue_version INTEGER NOT NULL, report TEXT NOT NULL);
      )sql"},
      // 3: the append-only audit log.
      {3, R"sql(
        CREATE TABLE audit(
          seq {{serial_key_never_reused}},
          at_ms {{int64}} NOT NULL,
          actor TEXT NOT NULL, role TEXT NOT NULL, org TEXT NOT NULL, device TEXT NOT NULL,
          action TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX audit_by_time ON audit(at_ms);
        {{audit_append_only}}
      )sql"},
      // 4: credential rotation: the new secret's hash waits until the device first uses it.
      {4, R"sql(
        ALTER TABLE devices ADD COLUMN next_secret_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE devices ADD COLUMN rotated_ms {{int64}} NOT NULL DEFAULT 0;
      )sql"},
      // 5: which program a device is: a tablet, or a browser signed in to the dashboard.
      {5, R"sql(
        ALTER TABLE devices ADD COLUMN client TEXT NOT NULL DEFAULT 'tablet';
      )sql"},
      // 6: the columns naming a person are user_name on both engines, so every statement is
      // written once.
      {6, R"sql(
        ALTER TABLE tokens RENAME COLUMN {{user}} TO user_name;
        ALTER TABLE devices RENAME COLUMN {{user}} TO user_name;
        ALTER TABLE approvals RENAME COLUMN {{user}} TO user_name;
      )sql"},
      // 7: the safeguarding queue (docs/safeguarding.md): 0 and '' until acknowledged; every
      // action recorded in safeguarding_actions, the latest being the last.
      {7, R"sql(
        CREATE TABLE safeguarding(
          record_id TEXT PRIMARY KEY,
          org TEXT NOT NULL,
          raised_ms {{int64}} NOT NULL,
          acknowledged_ms {{int64}} NOT NULL DEFAULT 0,
          acknowledged_by TEXT NOT NULL DEFAULT '');
        CREATE TABLE safeguarding_actions(
          id {{serial_key}},
          record_id TEXT NOT NULL,
          action TEXT NOT NULL,
          at_ms {{int64}} NOT NULL,
          by_user TEXT NOT NULL);
        CREATE INDEX safeguarding_actions_by_record ON safeguarding_actions(record_id);
      )sql"},
      // 8: photos (docs/protocol.md, section 8). Bytes are kept base64-encoded in TEXT, the one
      // column type both engines read and write the same way (a third larger, and photos are
      // few). attachment_refs says which records name a stored photo (retention deletes a photo
      // none names); attachment_parts holds unfinished uploads, per device.
      {8, R"sql(
        CREATE TABLE attachments(
          name TEXT PRIMARY KEY,
          bytes {{int64}} NOT NULL,
          content TEXT NOT NULL,
          stored_ms {{int64}} NOT NULL);
        CREATE TABLE attachment_refs(
          name TEXT NOT NULL,
          record_id TEXT NOT NULL,
          field TEXT NOT NULL,
          at_ms {{int64}} NOT NULL,
          PRIMARY KEY(name, record_id, field));
        CREATE INDEX attachment_refs_by_record ON attachment_refs(record_id);
        CREATE TABLE attachment_parts(
          device TEXT NOT NULL,
          name TEXT NOT NULL,
          part_offset {{int64}} NOT NULL,
          part_bytes {{int64}} NOT NULL,
          total {{int64}} NOT NULL,
          content TEXT NOT NULL,
          at_ms {{int64}} NOT NULL,
          PRIMARY KEY(device, name, part_offset));
      )sql"},
  };
  return kSteps;
}

}  // namespace beatbook::server
