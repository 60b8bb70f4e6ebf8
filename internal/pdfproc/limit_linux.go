package pdfproc

import "syscall"

// hardLimit caps the child's data segment, which on Linux (since 4.7) counts every private
// writable mapping: the Go heap, once the runtime maps it for use. Not the address space
// (RLIMIT_AS): the runtime reserves over a gigabyte of it at start, without using it. Past the
// limit an allocation fails and the runtime ends the child with "out of memory";
// TestRunnerSurvivesAChildThatRunsOutOfMemory measures that it does.
func hardLimit(bytes uint64) {
	var old syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_DATA, &old) == nil && old.Max < bytes {
		bytes = old.Max // a lower limit already holds, and cannot be raised
	}
	_ = syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: bytes, Max: bytes})
}

// hardLimitNow is the limit hardLimit sets, as the system holds it.
func hardLimitNow() uint64 {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_DATA, &l) != nil {
		return 0
	}
	return l.Cur
}
