package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// help is what a person reads of one command. `healow help NAME` and `healow NAME --help` print
// it with the command's flags, and `healow help` lists every command by its synopsis, so writing
// it once, next to the command, is all a new command needs to be documented.
// TestEveryCommandHasHelp holds every command in the table to it.
type help struct {
	name     string   // as typed after healow
	synopsis string   // one line: what the command does
	usage    string   // the command line, "healow NAME …"
	about    string   // optional: what a person needs beyond the synopsis, as a paragraph
	example  string   // one command line or a few, as typed
	env      []string // the variables it reads, each described once in environment
	internal bool     // run by healow itself, not a person: healow help does not list it
}

// environment is every variable healow reads, with what it means: `healow help` lists them
// all and a command's help those it reads.
var environment = []struct{ name, meaning string }{
	{"HEALOW_CLIENT_ID", "the app's client id, from its registration with eClinicalWorks"},
	{"HEALOW_CLIENT_SECRET", "the app's client secret, from the same registration; optional where every practice " +
		"lists client-public (connecting as a public client, with PKCE)"},
	{"HEALOW_REDIRECT_URI", "the app's registered redirect URI; a loopback URL (http://127.0.0.1:PORT/PATH) " +
		"lets healow connect and serve catch the code by themselves"},
	{"HEALOW_CALLBACK_PORT", "with an https redirect URI hosting redirect/index.html: the port on 127.0.0.1 " +
		"that page forwards the browser to"},
	{"HEALOW_ALLOWED_HOSTS", "hosts besides eClinicalWorks' own that may receive the client secret and tokens: " +
		"host names or IP addresses, comma-separated, any port (healow sandbox prints the value for the sandbox)"},
	{"HEALOW_TOKEN_STORE", "the metadata file (default ~/.healow-mcp/tokens.db)"},
	{"HEALOW_DIRECTORY_URL", "the practice directory that healow find and find_practice search (default " +
		"healow's own, on connect4.healow.com); https only, kept a week beside the token store"},
	{"HEALOW_LOG_LEVEL", "debug, info (default), warn or error; logs go to stderr"},
	{"HEALOW_RATE_LIMIT", "requests per minute per practice (default 250, eCW's)"},
	{"HEALOW_REQUEST_TIMEOUT", "timeout of one FHIR request (default 30s)"},
	{"SSL_CERT_FILE", "CA certificates to trust instead of the system's, on Linux (how healow trusts healow sandbox)"},
	{"NO_COLOR", "when set, tables are never coloured"},
}

// meaning is what environment says of the variable name, or "".
func meaning(name string) string {
	for _, v := range environment {
		if v.name == name {
			return v.meaning
		}
	}
	return ""
}

// command is one subcommand: how it runs and its help.
type command struct {
	run  func(ctx context.Context, args []string) error
	help *help
}

// flags is a command's flag set. Its Parse prints the command's help on stdout for -h and
// --help (and returns flag.ErrHelp, which ends healow with status 0), and returns any other
// error for main to print once, with the command's usage.
type flags struct {
	*flag.FlagSet
	help *help
}

// flags returns the command's flag set. A flag's usage names its argument in backquotes, as
// the flag package reads it: "the practice's FHIR base `URL`".
func (h *help) flags() flags {
	fs := flag.NewFlagSet(h.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the flag package would print the error and the help; Parse says both
	fs.Usage = func() {}
	return flags{fs, h}
}

func (f flags) Parse(args []string) error {
	err := f.FlagSet.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.help.write(os.Stdout, f.FlagSet)
		return err
	case err != nil:
		return fmt.Errorf("%w\n%w", err, f.usageError())
	}
	return nil
}

// usageError is the error of a command line that does not fit the command.
func (f flags) usageError() error {
	return fmt.Errorf("usage: %s\n(healow help %s says more)", f.help.usage, f.help.name)
}

// width is where help's paragraphs are wrapped.
const width = 100

// write prints the help, with the flags of fs (nil for none).
func (h *help) write(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "healow %s: %s\n\nUsage:\n  %s\n", h.name, h.synopsis, h.usage)
	if h.about != "" {
		fmt.Fprintf(w, "\n%s", wrap(h.about, "", width))
	}
	if fs != nil {
		first := true
		fs.VisitAll(func(f *flag.Flag) {
			if first {
				fmt.Fprint(w, "\nFlags:\n")
				first = false
			}
			arg, usage := flag.UnquoteUsage(f)
			if arg != "" { // as the usage line writes it: --timeout DURATION, not duration
				arg = " " + strings.ToUpper(arg)
			}
			if !slices.Contains([]string{"", "false", "0", "0s"}, f.DefValue) {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%s%s\n%s", f.Name, arg, wrap(usage, "        ", width))
		})
	}
	fmt.Fprintf(w, "\nExample:\n")
	for line := range strings.Lines(h.example) {
		fmt.Fprintf(w, "  %s", strings.TrimSuffix(line, "\n")+"\n")
	}
	fmt.Fprintf(w, "\nEnvironment:\n")
	writeEnvironment(w, h.env)
}

// writeEnvironment describes the variables names, or says there are none.
func writeEnvironment(w io.Writer, names []string) {
	if len(names) == 0 {
		fmt.Fprint(w, "  none\n")
		return
	}
	pad := 0
	for _, n := range names {
		pad = max(pad, len(n))
	}
	indent := strings.Repeat(" ", pad+4)
	for _, n := range names {
		text := wrap(meaning(n), indent, width)
		fmt.Fprintf(w, "  %-*s  %s", pad, n, text[len(indent):])
	}
}

// wrap breaks text into lines of at most width characters where it can, each starting with
// indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}

// usage is what `healow help` prints: every command by its synopsis, and the environment.
func usage() string {
	var b strings.Builder
	b.WriteString("healow: your medical records from eClinicalWorks / healow practices, for an MCP client.\n\n" +
		"Usage:\n  healow COMMAND [flags]\n\nCommands:\n")
	var names []string
	for _, n := range slices.Sorted(maps.Keys(commands)) {
		if !commands[n].help.internal {
			names = append(names, n)
		}
	}
	pad := 0
	for _, n := range names {
		pad = max(pad, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", pad, n, commands[n].help.synopsis)
	}
	b.WriteString("\n`healow help COMMAND` (or `healow COMMAND --help`) shows a command's usage, an example and the\n" +
		"environment it reads; `healow --version` prints the version.\n\nEnvironment:\n")
	all := make([]string, len(environment))
	for i, v := range environment {
		all[i] = v.name
	}
	writeEnvironment(&b, all)
	return b.String()
}
