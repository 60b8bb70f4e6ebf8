// Package status is how a person learns how each connected practice is doing: the health of a
// practice as `healow status` and the practice_status tool show it ([Practice], its errors
// redacted), the line protocol each `healow serve` answers on a unix socket ([Request],
// [Reply]), the service that answers it ([Listener]), the client side ([Ask], [AskAll]), and
// the service that keeps each practice's last state in the store for when no server runs
// ([Recorder]).
//
// It knows nothing of the supervisor tree or the registry: a [Source] answers its questions.
package status

import (
	"path/filepath"
	"strconv"
	"time"
)

// The status protocol. Each `healow serve` listens on a unix socket named after its pid, mode 0600
// in a 0700 folder next to the token store (see SocketDir). A client writes one Request as a
// line of JSON and reads one Reply as a line of JSON, as many times as it likes. A socket
// whose process died is left behind; clients find nobody listening and remove it (AskAll).

// The operations a Request may ask for.
const (
	// OpStatus asks for the process, its supervisor tree and every practice's health.
	OpStatus = "status"
	// OpDrop says a practice's row is gone (it was disconnected): the server re-reads the store
	// now and stops the practice's actor, rather than at its next poll.
	OpDrop = "drop"
)

// Request is one line a client sends.
type Request struct {
	Op string `json:"op"`
	ID string `json:"id,omitempty"` // the practice, for OpDrop
}

// Reply is one line a server answers. It holds nothing secret and no patient data.
type Reply struct {
	Process   Process    `json:"process"`
	Tree      *Node      `json:"tree,omitempty"`
	Practices []Practice `json:"practices"`
	Error     string     `json:"error,omitempty"`
}

// Process describes one running `healow serve`.
type Process struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Version string    `json:"version"`
}

// Node is one service in a process's supervisor tree.
type Node struct {
	Name     string `json:"name"`
	Practice string `json:"practice,omitempty"` // the practice id, for a practice actor
	Children []Node `json:"children,omitempty"`
}

// SocketDir is the folder of the status sockets of the servers sharing the store at storePath.
func SocketDir(storePath string) string {
	return filepath.Join(filepath.Dir(storePath), "run")
}

// SocketPath is where the server with this pid listens.
func SocketPath(dir string, pid int) string {
	return filepath.Join(dir, "serve-"+strconv.Itoa(pid)+".sock")
}
