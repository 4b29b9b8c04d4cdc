// What every benchmark shares: timing, scratch directories, the raw SQLite reference rate and the
// table every benchmark prints (markdown rows, so bench/run_all.sh can gather them into one).
#pragma once

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "beatbook/local_store.h"
#include "beatbook/sqlite_db.h"

namespace beatbook::bench {

using Steady = std::chrono::steady_clock;

inline double Seconds(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

// A fresh directory under /tmp; removed by RemoveDir.
inline std::string TempDir() {
  char pattern[] = "/tmp/beatbook-bench-XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  return dir ? dir : "";
}

inline void RemoveDir(const std::string& dir) {
  if (dir.rfind("/tmp/beatbook-bench-", 0) != 0) return;
  std::string cmd = "rm -rf '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
}

// The reference every rate is compared with: the same number of rows of the records' field JSON,
// inserted into a fresh SQLite table in one transaction with one prepared statement, on this
// machine, now. Returns rows per second (0 if SQLite failed).
inline double RawSqliteInsertRate(const std::vector<RecordInput>& records) {
  std::string dir = TempDir();
  double rate = 0;
  {
    SqliteDb db;
    SqliteStmt st;
    if (db.Open(dir + "/raw.db", true).ok() &&
        db.Exec("CREATE TABLE t(id TEXT PRIMARY KEY, body TEXT)").ok() &&
        db.Prepare("INSERT INTO t VALUES(?, ?)", &st).ok()) {
      auto start = Steady::now();
      bool ok = db.Begin().ok();
      for (std::size_t i = 0; ok && i < records.size(); ++i) {
        st.Bind(1, "id-" + std::to_string(i * 2654435761u % 1000000007u));
        st.Bind(2, records[i].fields.dump());
        ok = st.Run().ok();
      }
      ok = ok && db.Commit().ok();
      // A failed reference run prints 0, not a rate for work that was not done.
      rate = ok ? static_cast<double>(records.size()) / Seconds(start) : 0;
    }
  }
  RemoveDir(dir);
  return rate;
}

// The table: | figure | measured | target | vs raw SQLite |
inline void PrintHeader() {
  std::printf("| figure | measured | target | vs raw SQLite insert |\n|---|---|---|---|\n");
}

inline std::string Format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

// A rate row: "12,345/s" with its ratio to the raw rate (if known).
inline void PrintRate(const std::string& figure, double per_sec, const std::string& target,
                      double raw_per_sec) {
  std::string ratio = raw_per_sec > 0 ? Format("%.2f", per_sec / raw_per_sec) : "-";
  std::printf("| %s | %s/s | %s | %s |\n", figure.c_str(), Format("%.0f", per_sec).c_str(),
              target.c_str(), ratio.c_str());
}

inline void PrintRow(const std::string& figure, const std::string& measured,
                     const std::string& target) {
  std::printf("| %s | %s | %s | - |\n", figure.c_str(), measured.c_str(), target.c_str());
}

}  // namespace beatbook::bench
