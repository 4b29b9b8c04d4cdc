// Named fault points: places in the code where a test can make the process die on purpose.
//
// Set the environment variable BEATBOOK_FAULT to "NAME" (die at the first hit of that point) or
// "NAME:N" (die at the Nth hit). The process then kills itself with SIGKILL, as a power cut would,
// without flushing or unwinding anything. With the variable unset a fault point costs one branch.
//
// Every point in the code base is listed in kFaultPoints (a test checks the list against the
// sources: grep for BB_FAULT_POINT). These are test hooks: set by accident in production they
// kill the server or make every write fail, so both programs warn loudly at start-up when one is
// set (FaultHookWarnings).
#pragma once

#include <string>
#include <vector>

namespace beatbook {

inline constexpr const char* kFaultPoints[] = {
    "store.log.before_commit",       // LocalStore: a log or bulk log, before its commit
    "store.ack.before_commit",       // LocalStore: acknowledging a pushed batch
    "store.pull.before_commit",      // LocalStore: applying a pulled page
    "store.encrypt.before_commit",   // LocalStore: encrypting a pre-encryption store in place
    "store.wipe.before_commit",      // LocalStore: a remote wipe
    "store.epoch.before_commit",     // LocalStore: queuing writes again for a restored server
    "sync.rotate.before_first_use",  // device: a rotated credential, before its first use
    "sync.upload.after_chunk",       // device: a photo's chunk taken by the server
    "server.push.before_commit",     // sync_server: a push batch, before its commit
    "server.push.after_commit",      // sync_server: a push batch, committed, before the answer
};

void HitFaultPoint(const char* name);

// A numeric fault setting from the environment variable `env_name`, or 0 if unset. Used for
// "BEATBOOK_FAULT_STORE_MAX_PAGES": the central store then refuses to grow past that many pages,
// as a full disk would (SQLITE_FULL).
long FaultSetting(const char* env_name);

// One sentence for each test hook set in this process's environment, saying what it will do
// (and if BEATBOOK_FAULT names no known point); empty when none is set. Programs print these to
// stderr at start-up.
std::vector<std::string> FaultHookWarnings();

#define BB_FAULT_POINT(name) ::beatbook::HitFaultPoint(name)

}  // namespace beatbook
