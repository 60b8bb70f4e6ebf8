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

// commands are healow's subcommands; each file's help says what its command does.
var commands = map[string]command{
	"serve":      {runServe, serveHelp},
	"connect":    {runConnect, connectHelp},
	"find":       {runFind, findHelp},
	"status":     {runStatus, statusHelp},
	"practices":  {runPractices, practicesHelp},
	"disconnect": {runDisconnect, disconnectHelp},
	"audit":      {runAudit, auditHelp},
	"doctor":     {runDoctor, doctorHelp},
	"sandbox":    {runSandbox, sandboxHelp},
	"demo":       {runDemo, demoHelp},
	"version":    {runVersion, versionHelp},
	"pdftext":    {runPDFText, pdftextHelp},
}

// exitStatus ends healow with that status and no further message: the command has already said
// what it had to (healow status reports health through it).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage())
		os.Exit(2)
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Print(usage())
		return
	case "--version", "-version":
		args = []string{"version"}
	case "help":
		// healow help NAME is healow NAME --help: the command's own flags are in its help.
		switch {
		case len(args) == 1 || args[1] == "help":
			fmt.Print(usage())
			return
		case len(args) > 2:
			fmt.Fprint(os.Stderr, "usage: healow help [COMMAND]\n")
			os.Exit(2)
		}
		args = []string{args[1], "--help"}
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "healow: unknown command %q\n\n%s", args[0], usage())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd.run(ctx, args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	var status exitStatus
	if errors.As(err, &status) {
		os.Exit(int(status))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "healow %s: %v\n", args[0], err)
		os.Exit(1)
	}
}
