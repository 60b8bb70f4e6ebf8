package vault

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/zalando/go-keyring"
)

// ErrSecretTooBig is returned, wrapped, by [Keychain.Set] when the OS keychain refuses a value
// because of its size (macOS and Windows cap it at a few kilobytes).
var ErrSecretTooBig = errors.New("too big for this OS keychain")

// ErrKeychainUnavailable is returned, wrapped, by [Keychain] methods when the OS keychain could
// not be reached or refused the operation. Unlike ErrSecretNotFound it says nothing about whether
// the secret exists, so callers should report it rather than ask the user to reconnect.
var ErrKeychainUnavailable = errors.New("the OS keychain could not be reached")

// Keychain stores secrets in the OS keychain (macOS Keychain, Windows Credential Manager, or the
// freedesktop Secret Service on Linux and BSD) via github.com/zalando/go-keyring, under service
// [Service] and user "<practiceID>/<kind>". It holds no state of its own and is safe for
// concurrent use.
//
// Calls may block for as long as the OS shows an unlock prompt, so callers that must stay
// responsive run them off their main loop.
type Keychain struct {
	service string
}

// Compile-time check that Keychain implements Secrets.
var _ Secrets = (*Keychain)(nil)

// NewKeychain returns the OS keychain as a [Secrets].
func NewKeychain() *Keychain {
	return &Keychain{service: Service}
}

// Get returns the secret, or an error wrapping [ErrSecretNotFound] when none is stored.
func (k *Keychain) Get(practiceID string, kind SecretKind) (string, error) {
	acct, err := account(practiceID, kind)
	if err != nil {
		return "", err
	}
	v, err := keyring.Get(k.service, acct)
	if err != nil {
		return "", keychainError("read", practiceID, kind, err)
	}
	return v, nil
}

// Set stores the secret, replacing any previous value.
func (k *Keychain) Set(practiceID string, kind SecretKind, value string) error {
	acct, err := account(practiceID, kind)
	if err != nil {
		return err
	}
	if err := checkValue(kind, value); err != nil {
		return err
	}
	if err := keyring.Set(k.service, acct, value); err != nil {
		return keychainError("store", practiceID, kind, err)
	}
	return nil
}

// Delete removes the secret. Deleting a missing item is not an error, so disconnecting a
// practice twice, or one whose tokens were removed by hand, succeeds.
func (k *Keychain) Delete(practiceID string, kind SecretKind) error {
	acct, err := account(practiceID, kind)
	if err != nil {
		return err
	}
	err = keyring.Delete(k.service, acct)
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return keychainError("delete", practiceID, kind, err)
}

// keychainError turns a go-keyring error into one that says what the user can do. It is given
// the practice id and kind, never the value, so no secret can end up in an error message.
func keychainError(op, practiceID string, kind SecretKind, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%w: no %s for practice %s in the OS keychain (service %q): connect the practice again",
			ErrSecretNotFound, kind, practiceID, Service)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("the %s of practice %s is %w: %w", kind, practiceID, ErrSecretTooBig, err)
	default:
		return fmt.Errorf("could not %s the %s of practice %s: %w%s: %w",
			op, kind, practiceID, ErrKeychainUnavailable, keychainHint(runtime.GOOS), err)
	}
}

// keychainHint says what the OS keychain needs on goos, where that is not obvious.
func keychainHint(goos string) string {
	switch goos {
	case "darwin", "windows":
		return ""
	case "linux":
		return " (on Linux a Secret Service, such as gnome-keyring, must be running and unlocked in this D-Bus session)"
	default:
		return " (a freedesktop Secret Service, such as gnome-keyring, must be running and unlocked in this D-Bus session)"
	}
}
