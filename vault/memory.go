package vault

import (
	"fmt"
	"maps"
	"sync"
)

// Memory is an in-memory [Secrets] for tests, the demo and the sandbox. Its zero value is not
// usable; call [NewMemory]. It is safe for concurrent use.
type Memory struct {
	mu      sync.RWMutex
	secrets map[string]string // keyed like the keychain account: "<practiceID>/<kind>"
}

// Compile-time check that Memory can stand in for the keychain.
var _ Secrets = (*Memory)(nil)

// NewMemory returns an empty in-memory secret store.
func NewMemory() *Memory {
	return &Memory{secrets: make(map[string]string)}
}

// Get returns the secret, or an error wrapping [ErrSecretNotFound] when none is stored.
func (m *Memory) Get(practiceID string, kind SecretKind) (string, error) {
	acct, err := account(practiceID, kind)
	if err != nil {
		return "", err
	}
	m.mu.RLock()
	v, ok := m.secrets[acct]
	m.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("%w: no %s stored for practice %s", ErrSecretNotFound, kind, practiceID)
	}
	return v, nil
}

// Set stores the secret, replacing any previous value.
func (m *Memory) Set(practiceID string, kind SecretKind, value string) error {
	acct, err := account(practiceID, kind)
	if err != nil {
		return err
	}
	if err := checkValue(kind, value); err != nil {
		return err
	}
	m.mu.Lock()
	m.secrets[acct] = value
	m.mu.Unlock()
	return nil
}

// Delete removes the secret. Deleting a missing item is not an error.
func (m *Memory) Delete(practiceID string, kind SecretKind) error {
	acct, err := account(practiceID, kind)
	if err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.secrets, acct)
	m.mu.Unlock()
	return nil
}

// Snapshot returns a copy of every stored secret keyed "<practiceID>/<kind>", so tests can
// assert which secrets exist and that none of them leaked elsewhere (logs, the database, tool
// output). Changing the copy does not change m.
func (m *Memory) Snapshot() map[string]string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return maps.Clone(m.secrets)
}
