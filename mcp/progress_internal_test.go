package mcp

import (
	"context"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// notes is a client that takes notifications one at a time, as the test reads them.
func notes(ctx context.Context) (*progress, chan *sdk.ProgressNotificationParams) {
	c := make(chan *sdk.ProgressNotificationParams)
	return newProgress(ctx, "tok", func(ctx context.Context, n *sdk.ProgressNotificationParams) error {
		select {
		case c <- n:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}), c
}

// Units land on their count, steps half-way to the next; total is said only once known, and
// only while progress is within it.
func TestProgressRisesWithEveryNotification(t *testing.T) {
	t.Parallel()
	p, c := notes(context.Background())
	type want struct {
		progress, total float64
		message         string
	}
	check := func(w want) {
		t.Helper()
		n := <-c
		if n.Progress != w.progress || n.Total != w.total || n.Message != w.message || n.ProgressToken != "tok" {
			t.Fatalf("got %+v, want %+v", n, w)
		}
	}
	p.Page(nil, "Observation", 1, 20)
	check(want{1, 0, "read 1 page of Observation from the practice, 20 results so far"})
	p.Step("waiting")
	check(want{1.5, 0, "waiting"})
	p.Step("still waiting")
	check(want{1.75, 0, "still waiting"})
	p.Page(nil, "", 2, -1)
	check(want{2, 0, "read 2 pages from the practice"})

	// A fan-out: practices are the units, and pages steps between them.
	p, c = notes(context.Background())
	p.Expect(2)
	p.Page(nil, "Condition", 1, 3)
	check(want{0.5, 2, "read 1 page of Condition from the practice, 3 results so far"})
	p.Answered(nil, true)
	check(want{1, 2, "the practice answered (1 of 2 practices done)"})
	p.Answered(nil, false)
	check(want{2, 2, "the practice failed (2 of 2 practices done)"})
	p.Answered(nil, true) // one too many: progress still rises, past a total it no longer claims
	check(want{3, 0, "the practice answered (3 of 2 practices done)"})
	p.close()
	p.Step("after the result")
	select {
	case n := <-c:
		t.Fatalf("told after the result: %+v", n)
	default:
	}
}

// A client slower than the call sees the newest step in place of those it missed, never an
// older one after a newer, and the last one before the result.
func TestProgressMergesWhatASlowClientMissed(t *testing.T) {
	t.Parallel()
	var told []*sdk.ProgressNotificationParams // written by the sender alone, read once it is done
	writing, slow := make(chan struct{}), make(chan struct{})
	p := newProgress(context.Background(), "tok", func(_ context.Context, n *sdk.ProgressNotificationParams) error {
		told = append(told, n)
		if len(told) == 1 {
			close(writing)
			<-slow // the client takes its time over the first
		}
		return nil
	})
	p.Step("one")
	<-writing
	p.Step("two")
	p.Step("three")
	close(slow)
	p.close()
	if len(told) != 2 || told[0].Message != "one" || told[1].Message != "three" || told[1].Progress <= told[0].Progress {
		t.Fatalf("told %+v", told)
	}
}

// Steps half-way to the next unit run out of precision after some fifty; those are not told,
// and progress never falls back or reaches the next unit.
func TestProgressStepsNeverReachTheNextUnit(t *testing.T) {
	t.Parallel()
	var told []float64 // written by the sender alone, read once it is done
	p := newProgress(context.Background(), 1, func(_ context.Context, n *sdk.ProgressNotificationParams) error {
		told = append(told, n.Progress)
		return nil
	})
	for range 80 {
		p.Step("waiting")
	}
	p.close()
	last := 0.0
	for _, v := range told {
		if v <= last || v >= 1 {
			t.Fatalf("progress %v after %v in %v", v, last, told)
		}
		last = v
	}
	if p.last >= 1 || p.last < 1-1e-9 {
		t.Fatalf("the last step queued is at %v", p.last)
	}
}

// A client that reads nothing holds the call's result only until the call ends.
func TestProgressLetsGoWhenTheCallEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	p, _ := notes(ctx) // nobody reads
	p.Step("waiting")
	cancel()
	p.close()
	var none *progress // a call without a token
	none.Step("x")
	none.Page(nil, "Observation", 1, 1)
	none.Expect(3)
	none.Answered(nil, true)
	if progressFrom(context.Background()) != nil {
		t.Fatal("a call without a token has a reporter")
	}
}
