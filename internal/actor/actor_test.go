package actor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestFakeTimersFireInOrderAsTimeIsAdvanced(t *testing.T) {
	t.Parallel()
	f := NewFake(start)
	late, early := f.NewTimer(2*time.Minute), f.NewTimer(time.Minute)
	stopped := f.NewTimer(30 * time.Second)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop reports whether the timer was armed")
	}
	f.Advance(59 * time.Second)
	select {
	case <-early.C():
		t.Fatal("fired a second early")
	default:
	}
	f.Advance(time.Second)
	if at := <-early.C(); !at.Equal(start.Add(time.Minute)) {
		t.Fatalf("fired at %v", at)
	}
	f.Advance(time.Hour)
	if at := <-late.C(); !at.Equal(start.Add(2*time.Minute)) || !f.Now().Equal(start.Add(time.Hour+time.Minute)) {
		t.Fatalf("fired at %v, now %v", at, f.Now())
	}
	select {
	case <-stopped.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	if n := f.Timers(); n != 0 {
		t.Fatalf("%d timers still armed", n)
	}
}

func TestFakeTickerRepeatsAndMissesWhatIsNotRead(t *testing.T) {
	t.Parallel()
	f := NewFake(start)
	tk := f.NewTicker(10 * time.Second)
	f.Advance(10 * time.Second)
	<-tk.C()
	f.Advance(35 * time.Second) // three ticks, one buffered
	if at := <-tk.C(); !at.Equal(start.Add(20 * time.Second)) {
		t.Fatalf("tick at %v", at)
	}
	select {
	case at := <-tk.C():
		t.Fatalf("a missed tick was kept: %v", at)
	default:
	}
	tk.Stop()
	f.Advance(time.Minute)
	select {
	case <-tk.C():
		t.Fatal("a stopped ticker ticked")
	default:
	}
}

func TestWaitTimersWaitsForTheCodeToArmOne(t *testing.T) {
	t.Parallel()
	f := NewFake(start)
	armed := make(chan struct{})
	go func() {
		<-armed
		Sleep(context.Background(), f, time.Minute)
	}()
	close(armed)
	if err := f.WaitTimers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.WaitTimers(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestFakeDeadlines(t *testing.T) {
	t.Parallel()
	f := NewFake(start)
	ctx, cancel := f.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if ctx.Err() != nil {
		t.Fatal("ended before its time")
	}
	f.Advance(time.Second)
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("err = %v", ctx.Err())
	}

	parent, stop := context.WithCancel(context.Background())
	child, cancel2 := f.WithTimeout(parent, time.Hour)
	defer cancel2()
	stop()
	<-child.Done()
	if !errors.Is(child.Err(), context.Canceled) {
		t.Fatalf("err = %v", child.Err())
	}

	third, cancel3 := f.WithTimeout(context.Background(), time.Hour)
	cancel3()
	if !errors.Is(third.Err(), context.Canceled) {
		t.Fatalf("err = %v, %d timers", third.Err(), f.Timers())
	}
}

func TestAskAnswersOrSaysWhyNot(t *testing.T) {
	t.Parallel()
	b := NewMailbox[*Reply[int]]()
	ctx := context.Background()

	// Before the actor starts, a sender waits as for a busy actor.
	waiting, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Ask(waiting, b, NewReply[int](), NewReply[int]()); !errors.Is(err, context.Canceled) {
		t.Fatalf("before start: %v", err)
	}

	b.Up()
	go func() {
		for r := range b.Receive() {
			r.Send(42)
		}
	}()
	r := NewReply[int]()
	if v, err := Ask(ctx, b, r, r); v != 42 || err != nil {
		t.Fatalf("Ask = %d, %v", v, err)
	}

	why := errors.New("the store is damaged")
	b.Down(why)
	r = NewReply[int]()
	if _, err := Ask(ctx, b, r, r); !errors.Is(err, ErrDown) || !errors.Is(err, why) {
		t.Fatalf("down: %v", err)
	}
	b.Up()
	r = NewReply[int]()
	if v, err := Ask(ctx, b, r, r); v != 42 || err != nil {
		t.Fatalf("up again: %d, %v", v, err)
	}
	b.Close(errors.New("removed"))
	b.Up()
	if err := b.Send(ctx, NewReply[int]()); !errors.Is(err, ErrDown) || err.Error() != "removed" {
		t.Fatalf("closed: %v", err)
	}
}

// A caller waiting for its reply learns at once that the actor went down.
func TestAskLearnsOfADownActorWhileWaiting(t *testing.T) {
	t.Parallel()
	b := NewMailbox[*Reply[int]]()
	b.Up()
	got := make(chan struct{})
	go func() {
		<-b.Receive() // taken, never answered
		close(got)
	}()
	done := make(chan error)
	go func() {
		r := NewReply[int]()
		_, err := Ask(context.Background(), b, r, r)
		done <- err
	}()
	<-got
	b.Down(errors.New("panicked"))
	if err := <-done; !errors.Is(err, ErrDown) {
		t.Fatalf("err = %v", err)
	}
}

func TestReplyIsGivenExactlyOnce(t *testing.T) {
	t.Parallel()
	r := NewReply[int]()
	var first atomic.Int32
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if r.Send(i) {
				first.Add(1)
			}
		})
	}
	wg.Wait()
	if first.Load() != 1 || !r.Sent() {
		t.Fatalf("%d senders were first", first.Load())
	}
	<-r.C()
	select {
	case v := <-r.C():
		t.Fatalf("a second answer: %d", v)
	default:
	}
}

type counter struct{ applied int }

func TestJobsComeBackIntoTheLoopOrAnswerAlone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	j := NewJobs[*counter](ctx)
	c := &counter{}
	j.Go(func(context.Context) func(*counter) { return func(c *counter) { c.applied++ } }, nil)
	if j.InFlight() != 1 {
		t.Fatalf("in flight %d", j.InFlight())
	}
	(<-j.Results())(c)
	if c.applied != 1 || j.InFlight() != 0 {
		t.Fatalf("applied %d, in flight %d", c.applied, j.InFlight())
	}
	// The loop's run ends before the work does: the orphan answers the caller.
	r := NewReply[string]()
	release := make(chan struct{})
	j.Go(func(context.Context) func(*counter) { <-release; return func(*counter) { r.Send("late") } },
		func() { r.Send("the actor stopped") })
	cancel()
	close(release)
	if v := <-r.C(); v != "the actor stopped" {
		t.Fatalf("reply = %q", v)
	}
}

func TestBusNeverBlocksThePublisher(t *testing.T) {
	t.Parallel()
	var b Bus[int]
	b.Publish(0) // nobody listens
	c, stop := b.Subscribe(2)
	for i := 1; i <= 3; i++ {
		b.Publish(i)
	}
	if a, z := <-c, <-c; a != 1 || z != 2 {
		t.Fatalf("got %d, %d", a, z)
	}
	select {
	case v := <-c:
		t.Fatalf("a full subscriber got %d", v)
	default:
	}
	stop()
	b.Publish(4)
	select {
	case v := <-c:
		t.Fatalf("an ended subscription got %d", v)
	default:
	}
	var none *Bus[int]
	none.Publish(5)
}

// A caller that leaves hands its answer, given before or after, to what gives back its memory.
func TestAbandonedRepliesAreDropped(t *testing.T) {
	t.Parallel()
	var dropped atomic.Int32
	drop := func(int) { dropped.Add(1) }
	early := NewReply[int]()
	early.Send(1)
	early.Abandon(drop)
	late := NewReply[int]()
	late.Abandon(drop)
	if !late.Send(2) || late.Send(3) {
		t.Fatal("Send reports the first answer only")
	}
	var wg sync.WaitGroup
	for range 100 { // racing the two ends
		r := NewReply[int]()
		wg.Go(func() { r.Send(4) })
		wg.Go(func() { r.Abandon(drop) })
	}
	wg.Wait()
	if n := dropped.Load(); n != 102 {
		t.Fatalf("%d answers dropped, want 102", n)
	}
}
