// Package actor is the plumbing every actor in healow-mcp uses: the practice actor, the registry
// and the pending sign-ins.
//
// An actor is a suture service whose Serve runs one loop over a Mailbox; callers reach it only
// through Ask (or Send), which gives up when the caller does or when the actor is down, so no
// caller waits on an actor that will not answer. Each request that owes a caller an answer
// carries a Reply, which takes exactly one answer whoever sends it (the loop, the loop's
// shutdown, or work that outlived the loop). Work that must not block the loop runs through
// Jobs and comes back as a function the loop applies. Time comes from a Clock, which tests
// replace with a Fake they move by hand. State changes go out on a Bus to whoever subscribes.
package actor
