package main

import "testing"

// A bundle host may pass a setting the user left empty as its unexpanded template; healow reads
// that as unset (a public client), never as a secret to send.
func TestSettingsLeftAsTemplatesAreUnset(t *testing.T) {
	t.Setenv("HEALOW_CLIENT_ID", "app-1")
	t.Setenv("HEALOW_CLIENT_SECRET", "${user_config.client_secret}")
	t.Setenv("HEALOW_REDIRECT_URI", "http://127.0.0.1:8765/callback")
	t.Setenv("HEALOW_ALLOWED_HOSTS", "")
	c, err := clientFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.id != "app-1" || c.secret != "" || c.redirectURI != "http://127.0.0.1:8765/callback" {
		t.Fatalf("client = %q, %q, %q", c.id, c.secret, c.redirectURI)
	}
	t.Setenv("HEALOW_CLIENT_ID", "${user_config.client_id}")
	if _, err := clientFromEnv(); err == nil {
		t.Fatal("a client id left as its template was taken as set")
	}
	t.Setenv("HEALOW_CLIENT_ID", "app-1")
	t.Setenv("HEALOW_CLIENT_SECRET", "s3cret")
	if c, _ := clientFromEnv(); c.secret != "s3cret" {
		t.Fatalf("secret = %q", c.secret)
	}
}
