// Command healow is an MCP server that lets an AI assistant read a patient's own medical records
// from eClinicalWorks / healow practices. Run `healow help` for its subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `healow: your medical records from eClinicalWorks / healow practices, for an MCP client.

Usage:
  healow serve                                   the MCP server on stdio, for Claude Desktop
  healow connect --name NAME --fhir-base-url URL connect a practice (SMART on FHIR sign-in);
                                                 an existing name is reconnected in place
  healow status [--json] [--watch]               live health of every practice in every running
                                                 healow serve; exit status 0 all healthy, 3 some
                                                 practice or server is not, 4 no server runs
  healow practices [--json]                      the connected practices
  healow disconnect NAME                         forget a practice and its tokens (revoking them
                                                 where the practice allows); servers drop it
  healow audit [--practice NAME] [--since DUR] [--json]
                                                 every read of patient data (kept 90 days)
  healow sandbox --addr HOST:PORT --ca-file FILE run the built-in eClinicalWorks stand-in
  healow demo                                    try everything on the sandbox, in one process

Environment:
  HEALOW_CLIENT_ID, HEALOW_CLIENT_SECRET   the app's registration with eClinicalWorks
  HEALOW_REDIRECT_URI                      its redirect URI; a loopback URL (http://127.0.0.1:PORT/PATH)
                                           lets healow connect and serve catch the code by themselves
  HEALOW_CALLBACK_PORT                     with an https redirect URI hosting redirect/index.html: the
                                           port on 127.0.0.1 that page forwards the browser to
  HEALOW_ALLOWED_HOSTS                     hosts besides eClinicalWorks' own that may receive the client
                                           secret and tokens: host names or IP addresses, comma-separated,
                                           any port (healow sandbox prints the value for the sandbox)
  HEALOW_TOKEN_STORE                       metadata file (default ~/.healow-mcp/tokens.db)
  HEALOW_LOG_LEVEL                         debug, info (default), warn or error; logs go to stderr
  HEALOW_RATE_LIMIT                        requests per minute per practice (default 250, eCW's)
  HEALOW_REQUEST_TIMEOUT                   timeout of one FHIR request (default 30s)
`

var commands = map[string]func(ctx context.Context, args []string) error{
	"serve":      runServe,
	"connect":    runConnect,
	"status":     runStatus,
	"practices":  runPractices,
	"disconnect": runDisconnect,
	"audit":      runAudit,
	"sandbox":    runSandbox,
	"demo":       runDemo,
}

// exitStatus ends healow with that status and no further message: the command has already said
// what it had to (healow status reports health through it).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Fprint(os.Stderr, usage)
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "healow: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[2:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	var status exitStatus
	if errors.As(err, &status) {
		os.Exit(int(status))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "healow %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
