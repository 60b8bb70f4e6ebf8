package mcp

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// inParallel calls f once for each index, whatever the count and the CPUs, and a failure or a
// panic in any run comes back as an error instead of being lost or stopping the server.
func TestInParallelCallsEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 17, 100, 1001} {
		calls := make([]atomic.Int32, n)
		if err := inParallel(n, func(i int) error { calls[i].Add(1); return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d called %d times", n, i, c)
			}
		}
	}
	bad := errors.New("bad row")
	if err := inParallel(100, func(i int) error {
		if i == 57 {
			return bad
		}
		return nil
	}); !errors.Is(err, bad) {
		t.Fatalf("err = %v, want the failed row's", err)
	}
	err := inParallel(100, func(i int) error {
		if i == 99 {
			var m map[string]int
			m["boom"] = 1 // a nil map: a panic
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Fatalf("a panic came back as %v", err)
	}
}
