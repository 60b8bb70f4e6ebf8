//go:build !linux

package pdfproc

// hardLimit does nothing where no limit was measured to work with the Go runtime: there the
// child's stack limit and the collector's memory limit bound it, and the server still
// outlives whatever ends the child.
func hardLimit(uint64) {}

// hardLimitNow is 0: no hard limit is set here.
func hardLimitNow() uint64 { return 0 }
