// Package advice words what a person can do next, for the way healow was installed. Every error
// and note that sends a person to connect or forget a practice takes its words from here, so
// that a user of the MCP bundle, who has no healow on the PATH, is told the tools to ask for in
// the chat, and only a user of the command is told to run it.
package advice

import "fmt"

// EnvVar tells healow serve how it was installed. The bundle's manifest.json sets it to
// "bundle"; unset means a healow binary a person installed and can run.
//
// It is set by the installer rather than found by looking for healow on the PATH: Claude
// Desktop starts servers with the PATH of a desktop app (on macOS /usr/bin:/bin:/usr/sbin:/sbin),
// which misses the folder `go install` and most people put commands in, so a search of the
// PATH would send the very users who have the command to the tools, and could find another
// healow than the one running.
const EnvVar = "HEALOW_INSTALL"

// Install is how healow was installed. The zero value is a command a person can run.
type Install struct{ bundle bool }

var (
	// Command is healow installed as a program (go install, a release binary): advice names the
	// command, and the tool that does the same from the chat.
	Command = Install{}
	// Bundle is healow installed as an MCP bundle in Claude Desktop: no healow on the PATH, so
	// advice names only the tools.
	Bundle = Install{bundle: true}
)

// Parse reads EnvVar's value.
func Parse(v string) (Install, error) {
	switch v {
	case "":
		return Command, nil
	case "bundle":
		return Bundle, nil
	}
	return Command, fmt.Errorf("%s=%q: want bundle (the MCP bundle's manifest sets it), or leave it unset", EnvVar, v)
}

// Reconnect is the clause that tells how to connect the practice name at base again, such as
// "run `healow connect ...` (or the connect_practice tool) again"; "and allow ..." may follow.
func (i Install) Reconnect(name, base string) string {
	if i.bundle {
		return fmt.Sprintf("connect it again with the connect_practice tool (name %q, fhir_base_url %s)", name, base)
	}
	return fmt.Sprintf("run `healow connect --name %q --fhir-base-url %s` (or the connect_practice tool) again", name, base)
}

// Forget tells how to forget the practice name: "forget it with ...".
func (i Install) Forget(name string) string {
	if i.bundle {
		return fmt.Sprintf("forget it with the disconnect_practice tool (practice %q)", name)
	}
	return fmt.Sprintf("forget it with `healow disconnect %q` (or the disconnect_practice tool)", name)
}

// ConnectFirst tells how to connect a first practice: "connect one with ...".
func (i Install) ConnectFirst() string {
	if i.bundle {
		return "connect one with the connect_practice tool"
	}
	return "connect one with the connect_practice tool or `healow connect`"
}

// Restart tells how to start the server again: "restart ...".
func (i Install) Restart() string {
	if i.bundle {
		return "restart the MCP client (such as Claude Desktop)"
	}
	return "restart the MCP client (or healow serve)"
}
