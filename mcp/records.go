package mcp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
	"github.com/healow-mcp/healow-mcp/practice"
)

// recordIndexes is the actor that owns search_record's indexes, one per practice, held in
// memory for the life of the process. A practice's index is built from the first call on, by a
// job of the loop that tells the loop each step it reads; it is built again when a call asks or
// when it is a day old (on the actor's clock), and dropped the moment the registry says the
// practice is no longer served. The loop alone touches the map and every build's counts. A call
// gets views: copies of the counts, and the index's handle, which takes adds from its one build
// and searches from any goroutine at once.
type recordIndexes struct {
	clock  actor.Clock
	events *actor.Bus[practice.Event]
	build  buildFunc
	box    *actor.Mailbox[recordMsg]
}

// buildFunc reads a's record into idx, off the loop, telling the loop each step. Its error is
// why nothing could be read.
type buildFunc func(ctx context.Context, a *practice.Actor, idx *recordindex.Index, tell func(recordStep)) error

// recordStep is what a build tells the loop as it reads.
type recordStep struct {
	build        *recordBuild // whose step: one of a build since replaced or dropped is no news
	kind, doc    bool         // a kind of record was read (or failed); a document's text was read
	failed       string       // the kind of record that could not be read, and why
	unsearchable string       // a document whose text was not read, and why
}

// recordBuild is one practice's index and how far its build has come. Only the loop touches it.
type recordBuild struct {
	idx     *recordindex.Index
	patient string // whose record: the practice's patient when the build began ("" unknown)
	started time.Time
	cancel  context.CancelFunc
	done    bool          // the build ended
	gone    bool          // replaced or dropped: its steps are no news
	changed chan struct{} // closed at the build's next step (then replaced), or when it is dropped

	kinds, docs          int
	failed, unsearchable []string
}

// recordView is what a call sees of one practice's index, as it was when asked.
type recordView struct {
	idx                  *recordindex.Index // nil when gone
	done, gone           bool               // gone: the practice is no longer served
	changed              <-chan struct{}    // closed when there is more to see
	kinds, docs          int
	failed, unsearchable []string
}

func newRecordIndexes(clock actor.Clock, events *actor.Bus[practice.Event], build buildFunc) *recordIndexes {
	if events == nil {
		events = &actor.Bus[practice.Event]{}
	}
	return &recordIndexes{clock: actor.OrReal(clock), events: events, build: build, box: actor.NewMailbox[recordMsg]()}
}

func (r *recordIndexes) String() string { return "record indexes" }

var errIndexesDown = errors.New("search_record's indexes are not running (the server is stopping, or restarting them); try again in a moment")

type recordMsg interface{ isRecordMsg() }

// viewsMsg asks for the views of actors' indexes. With start, the indexes of practices not in
// connected are dropped first, and the builds that are due are started.
type viewsMsg struct {
	actors, connected []*practice.Actor
	patients          []string // with start: each actor's patient now, or nil when not known
	start, rebuild    bool
	reply             *actor.Reply[[]recordView]
}

type heldMsg struct{ reply *actor.Reply[int] }

func (*viewsMsg) isRecordMsg() {}
func (*heldMsg) isRecordMsg()  {}

// start returns the views of actors' indexes, starting each build that is due: there is no
// index yet, rebuild asks, it is a day old, the last build read nothing, or it is another
// patient's (the practice was connected again, as someone else). Indexes of practices not in
// connected, the registry's, are dropped. patients, when not nil, are the actors' patients now.
func (r *recordIndexes) start(ctx context.Context, actors []*practice.Actor, patients []string, connected []*practice.Actor, rebuild bool) ([]recordView, error) {
	m := &viewsMsg{actors: actors, patients: patients, connected: connected, start: true, rebuild: rebuild, reply: actor.NewReply[[]recordView]()}
	return actor.Ask(ctx, r.box, recordMsg(m), m.reply)
}

// views returns the views of actors' indexes as they are now.
func (r *recordIndexes) views(ctx context.Context, actors ...*practice.Actor) ([]recordView, error) {
	m := &viewsMsg{actors: actors, reply: actor.NewReply[[]recordView]()}
	return actor.Ask(ctx, r.box, recordMsg(m), m.reply)
}

// held says how many practices have an index in memory.
func (r *recordIndexes) held(ctx context.Context) (int, error) {
	m := &heldMsg{reply: actor.NewReply[int]()}
	return actor.Ask(ctx, r.box, recordMsg(m), m.reply)
}

// recordLoop is the state of one run of Serve: a restart begins with no index.
type recordLoop struct {
	r     *recordIndexes
	ctx   context.Context
	by    map[*practice.Actor]*recordBuild
	jobs  *actor.Jobs[*recordLoop]
	steps chan recordStep
}

// Serve runs the loop until ctx ends. Every build is a job of the run, and ends with it.
func (r *recordIndexes) Serve(ctx context.Context) error {
	events, stop := r.events.Subscribe(64)
	defer stop()
	l := &recordLoop{r: r, ctx: ctx, by: map[*practice.Actor]*recordBuild{}, jobs: actor.NewJobs[*recordLoop](ctx), steps: make(chan recordStep)}
	defer func() {
		for a := range l.by {
			l.drop(a) // wakes the calls that wait on a build
		}
	}()
	// Subscribed before the first answer: a call that had one hears of every removal after it.
	r.box.Up()
	defer r.box.Down(errIndexesDown)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-events:
			l.event(e)
		case s := <-l.steps:
			l.step(s)
		case apply := <-l.jobs.Results():
			apply(l)
		case m := <-r.box.Receive():
			// A removal published before the message was sent is applied before it.
			for drained := false; !drained; {
				select {
				case e := <-events:
					l.event(e)
				default:
					drained = true
				}
			}
			l.handle(m)
		}
	}
}

func (l *recordLoop) handle(m recordMsg) {
	switch m := m.(type) {
	case *heldMsg:
		m.reply.Send(len(l.by))
	case *viewsMsg:
		if m.start {
			l.keepOnly(m.connected)
		}
		now := l.r.clock.Now()
		fresh := map[*practice.Actor]bool{}
		out := make([]recordView, len(m.actors))
		for i, a := range m.actors {
			b := l.by[a]
			patient := ""
			if m.patients != nil {
				patient = m.patients[i]
			}
			if m.start && !fresh[a] && (b == nil || m.rebuild || now.Sub(b.started) >= recordMaxAge || b.empty() || b.patient != patient) {
				b, fresh[a] = l.begin(a, patient, now), true
			}
			out[i] = b.view()
		}
		m.reply.Send(out)
	}
}

// begin starts a's build of patient's record, replacing the one it had.
func (l *recordLoop) begin(a *practice.Actor, patient string, now time.Time) *recordBuild {
	if l.by[a] != nil {
		l.drop(a)
	}
	// The build outlives the call that started it; the audit trail names the tool it serves.
	ctx, cancel := context.WithCancel(context.WithValue(l.ctx, toolKey{}, "search_record"))
	b := &recordBuild{idx: recordindex.New(), patient: patient, started: now, cancel: cancel, changed: make(chan struct{})}
	l.by[a] = b
	steps := l.steps
	tell := func(s recordStep) {
		s.build = b
		select {
		case steps <- s:
		case <-ctx.Done():
		}
	}
	build := l.r.build
	l.jobs.Go(func(context.Context) func(*recordLoop) {
		err := build(ctx, a, b.idx, tell)
		return func(l *recordLoop) { l.ended(a, b, err) }
	}, nil)
	return b
}

// ended takes the end of a's build b.
func (l *recordLoop) ended(a *practice.Actor, b *recordBuild, err error) {
	switch {
	case b.gone:
		return
	case errors.Is(err, practice.ErrStopped):
		l.drop(a) // removed while its build began: nobody will ask for it again
		return
	case err != nil:
		b.failed = append(b.failed, "the practice: "+firstLine(err.Error()))
	}
	b.done = true
	b.cancel()
	b.tell()
}

func (l *recordLoop) step(s recordStep) {
	b := s.build
	if b.gone {
		return
	}
	if s.kind {
		b.kinds++
	}
	if s.doc {
		b.docs++
	}
	if s.failed != "" {
		b.failed = append(b.failed, s.failed)
	}
	if s.unsearchable != "" {
		b.unsearchable = append(b.unsearchable, s.unsearchable)
	}
	b.tell()
}

// event drops the index of a practice the registry no longer serves.
func (l *recordLoop) event(e practice.Event) {
	if !e.Removed {
		return
	}
	for a := range l.by {
		if a.ID() == e.Practice {
			l.drop(a)
		}
	}
}

// keepOnly drops the indexes of practices not in connected: a removal the loop missed (the
// bus drops events for a subscriber whose buffer is full) is caught at the next call.
func (l *recordLoop) keepOnly(connected []*practice.Actor) {
	served := make(map[*practice.Actor]bool, len(connected))
	for _, a := range connected {
		served[a] = true
	}
	for a := range l.by {
		if !served[a] {
			l.drop(a)
		}
	}
}

// drop forgets a's index, stopping its build: the record leaves memory once the calls
// searching it are answered.
func (l *recordLoop) drop(a *practice.Actor) {
	b := l.by[a]
	delete(l.by, a)
	b.cancel()
	b.gone = true
	close(b.changed)
}

// tell wakes the calls waiting on b.
func (b *recordBuild) tell() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// empty says the build ended having read nothing, the practice refusing: the next call tries
// again (once the patient has reconnected, say) rather than answer from nothing for a day.
func (b *recordBuild) empty() bool {
	return b.done && len(b.failed) > 0 && b.idx.Len() == 0
}

func (b *recordBuild) view() recordView {
	if b == nil {
		return recordView{gone: true, done: true}
	}
	return recordView{idx: b.idx, done: b.done, changed: b.changed, kinds: b.kinds, docs: b.docs,
		failed: bounded(b.failed), unsearchable: bounded(b.unsearchable)}
}

// read says how far the build had come, in counts: no word of the record.
func (v recordView) read() string {
	n := 0
	if v.idx != nil {
		n = v.idx.Len()
	}
	return fmt.Sprintf("%d of %d kinds of record, %d documents' text; %d items indexed", v.kinds, len(recordKinds), v.docs, n)
}

// bounded keeps a list of notes short: the first few, then how many more.
func bounded(list []string) []string {
	const most = 10
	if len(list) <= most {
		return append([]string(nil), list...)
	}
	return append(append([]string(nil), list[:most]...), fmt.Sprintf("and %d more", len(list)-most))
}
