package smart

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// maxPaste bounds what ParseRedirect accepts; a real redirect is far shorter.
const maxPaste = 4 << 10

// ParseRedirect accepts what a user pastes after approving access: a bare
// authorization code, or the whole redirect URL with code and state query
// parameters. It returns the code and state ("" when a bare code was
// given). A redirect carrying error=access_denied yields an *Error matching
// ErrAccessDenied; any other error=... an *Error with that code, and the
// redirect's state.
func ParseRedirect(input string) (code, state string, err error) {
	s := strings.TrimSpace(input)
	switch {
	case s == "":
		return "", "", errors.New("nothing was pasted: paste the whole address your browser shows after you approve access")
	case len(s) > maxPaste:
		return "", "", fmt.Errorf("the pasted text is longer than %d bytes, far more than a redirect address: paste only the address from the browser's address bar", maxPaste)
	}
	if !strings.ContainsAny(s, "?=&#") && !strings.Contains(s, "://") {
		if !isCodeText(s) {
			return "", "", errors.New("the pasted text is not an authorization code or a redirect address: paste the whole address your browser shows after you approve access")
		}
		return s, "", nil
	}

	q, err := redirectParams(s)
	if err != nil {
		return "", "", err
	}
	if e := q.Get("error"); e != "" {
		// The state is returned with the error: the sign-in it names is over, and its owner
		// ends it rather than wait for a code that will not come.
		return "", q.Get("state"), &Error{Code: cleanText(e), Description: cleanText(q.Get("error_description"))}
	}
	code = q.Get("code")
	if code == "" {
		return "", "", errors.New("the pasted address has no code parameter: paste the address your browser shows after you approve access, not the one you started from")
	}
	if !isCodeText(code) {
		return "", "", errors.New("the code in the pasted address contains characters no authorization code has: copy the address again, in full")
	}
	return code, q.Get("state"), nil
}

// redirectParams finds the OAuth parameters in a pasted URL, a query string
// ("code=...&state=..."), or a fragment (response_mode=fragment).
func redirectParams(s string) (url.Values, error) {
	rawQuery, fragment := s, ""
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return nil, errors.New("the pasted address is not a valid URL: copy it again from the browser's address bar, in full")
		}
		rawQuery, fragment = u.RawQuery, u.Fragment
	} else {
		rawQuery, fragment, _ = strings.Cut(strings.TrimPrefix(s, "?"), "#")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errors.New("the pasted address has a malformed query: copy it again from the browser's address bar, in full")
	}
	if q.Get("code") == "" && q.Get("error") == "" && fragment != "" {
		if f, err := url.ParseQuery(fragment); err == nil {
			return f, nil
		}
	}
	return q, nil
}

// isCodeText reports whether s could be an OAuth code: printable ASCII
// without spaces (RFC 6749 allows %x20-7E; a space in a paste is garbage).
func isCodeText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}
