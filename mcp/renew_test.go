package mcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

// practice_status tells the model, for a practice that still answers, that its refresh token
// runs out within 14 days and how the user renews it.
func TestPracticeStatusWarnsOfAnExpiringRefreshToken(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Now())
	env := testenv.Start(t, testenv.Options{Clock: clock})
	ps := env.Sandbox.Practices()
	ctx := context.Background()
	aged := env.Connect(t, ps[0])
	aged.RefreshIssuedAt = clock.Now().Add(-83 * 24 * time.Hour)
	if err := env.Store.Save(ctx, aged); err != nil {
		t.Fatal(err)
	}
	fresh := env.Connect(t, ps[1])
	env.Actor(t, aged.ID)
	env.Actor(t, fresh.ID)
	cs := session(t, env)

	var s struct {
		Practices []struct {
			Name               string    `json:"name"`
			Healthy            bool      `json:"healthy"`
			Warning            string    `json:"warning"`
			RefreshTokenExpiry time.Time `json:"refresh_token_expiry"`
		} `json:"practices"`
	}
	callOK(t, cs, "practice_status", nil, &s)
	if len(s.Practices) != 2 {
		t.Fatalf("practice_status = %+v", s)
	}
	for _, p := range s.Practices {
		switch p.Name {
		case aged.Name:
			if !p.Healthy || !strings.Contains(p.Warning, "refresh token expires in 7 days") || !strings.Contains(p.Warning, "connect_practice") ||
				!p.RefreshTokenExpiry.Equal(aged.RefreshIssuedAt.Add(90*24*time.Hour)) {
				t.Fatalf("the practice whose refresh token expires soon: %+v", p)
			}
		case fresh.Name:
			if p.Warning != "" || !p.RefreshTokenExpiry.After(clock.Now().Add(89*24*time.Hour)) {
				t.Fatalf("a practice connected now: %+v", p)
			}
		}
	}
}
