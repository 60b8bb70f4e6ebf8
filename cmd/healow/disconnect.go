package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

var disconnectHelp = &help{
	name:     "disconnect",
	synopsis: "forget a practice and its tokens, revoking them where the practice allows",
	usage:    "healow disconnect NAME",
	about: "NAME is the practice's name or id (see healow practices). Its keychain items and its row in the " +
		"store are deleted, and running servers drop it. Revoking needs HEALOW_CLIENT_ID and " +
		"HEALOW_CLIENT_SECRET; without them the practice is still forgotten here.",
	example: `healow disconnect "Sunrise Family Medicine"`,
	env:     []string{"HEALOW_TOKEN_STORE", "HEALOW_CLIENT_ID", "HEALOW_CLIENT_SECRET", "HEALOW_ALLOWED_HOSTS", "SSL_CERT_FILE"},
}

// runDisconnect forgets a practice: its keychain items and its row, after asking the practice
// to revoke the grant where it can. Running servers drop it at once.
func runDisconnect(ctx context.Context, args []string) error {
	fs := disconnectHelp.flags()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.usageError()
	}
	store, err := openStoreIfAny()
	if err != nil {
		return err
	}
	if store == nil {
		return errors.New("no practice is connected")
	}
	defer store.Close()
	// Revoking needs the app's credentials; without them the practice is still forgotten here.
	var oauth *smart.Client
	if id, secret := os.Getenv("HEALOW_CLIENT_ID"), os.Getenv("HEALOW_CLIENT_SECRET"); id != "" && secret != "" {
		hosts, err := hostsFromEnv()
		if err != nil {
			return err
		}
		oauth = &smart.Client{HTTP: newHTTPClient(nil, hosts), ClientID: id, ClientSecret: secret, Hosts: hosts}
	}
	return disconnect(ctx, os.Stdout, store, vault.NewKeychain(), oauth, status.SocketDir(store.Path()), fs.Arg(0))
}

// disconnect forgets the practice key, then tells the servers whose sockets are in dir.
func disconnect(ctx context.Context, out io.Writer, store *vault.Store, secrets vault.Secrets, oauth *smart.Client, dir, key string) error {
	d, err := supervisor.Disconnect(ctx, store, secrets, oauth, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Disconnected %q (%s): its tokens are gone from the keychain and it is forgotten.\n", d.Name, d.ID)
	if d.Revocation != "" {
		fmt.Fprintln(out, strings.ToUpper(d.Revocation[:1])+d.Revocation[1:]+".")
	}
	// Servers would notice within a second; telling them makes it immediate.
	actx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	servers, err := status.AskAll(actx, dir, status.Request{Op: status.OpDrop, ID: d.ID})
	if err != nil {
		return nil // the practice is gone; servers find out on their own
	}
	told := 0
	for _, s := range servers {
		if s.Err == nil {
			told++
		}
	}
	if told > 0 {
		fmt.Fprintf(out, "%d running healow serve stopped serving it.\n", told)
	}
	return nil
}
