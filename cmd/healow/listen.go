package main

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// listenFromEnv says where a sign-in's redirect reaches this machine, if it does: the registered
// redirect URI itself when it is a loopback one, or HEALOW_CALLBACK_PORT on 127.0.0.1 when the
// registered redirect is the forwarding page (redirect/index.html) at an https address, which
// sends the browser on to http://127.0.0.1:<port>/callback. nil means the user pastes the code.
func listenFromEnv(redirectURI string) (*smart.Loopback, error) {
	return listenAt(redirectURI, os.Getenv("HEALOW_CALLBACK_PORT"))
}

// listenAt is listenFromEnv with HEALOW_CALLBACK_PORT given as v.
func listenAt(redirectURI, v string) (*smart.Loopback, error) {
	at, loopback := smart.LoopbackOf(redirectURI)
	switch {
	case v == "" && loopback:
		return &at, nil
	case v == "":
		return nil, nil
	case loopback:
		return nil, fmt.Errorf("HEALOW_CALLBACK_PORT=%q: healow already listens on the loopback HEALOW_REDIRECT_URI %s; "+
			"the port is for an https redirect that forwards to this machine: unset one of them", v, redirectURI)
	}
	port, err := strconv.Atoi(v)
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("HEALOW_CALLBACK_PORT=%q: want the port number the forwarding page sends the browser to, such as 8765", v)
	}
	return &smart.Loopback{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: smart.CallbackPath}, nil
}
