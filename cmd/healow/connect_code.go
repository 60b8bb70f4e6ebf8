package main

import (
	"context"
	"fmt"
	"io"
	"regexp"

	"github.com/healow-mcp/healow-mcp/practice/directory"
)

// healowCode is the shape of the practice codes eClinicalWorks documents: six upper-case letters.
var healowCode = regexp.MustCompile(`^[A-Z]{6}$`)

// byCode finds the practice healow connect --code names: its FHIR base URL, and its name from
// the directory when --name gave none.
//
// The directory is the authority, but it lists a practice only once it has activated its API,
// is a week old at worst, and may not be reachable. So a code it does not list is still tried at
// healow's documented address, https://fhir4.healow.com/fhir/r4/<CODE>, when it has the
// documented shape (six letters): that host is one the client secret may go to anyway, the
// first request is the practice's public smart-configuration, and a code that is wrong fails
// there with the practice's answer. A code of any other shape is far likelier a typo than a
// practice, and guessing a URL for it would only trade a clear refusal for an obscure one.
func byCode(ctx context.Context, dir *directory.Directory, code, name string, msg io.Writer) (string, string, error) {
	c, err := directory.ParseCode(code)
	if err != nil {
		return "", "", err
	}
	p, listed, derr := dir.Code(ctx, c)
	if listed {
		if name == "" {
			name = p.Name
		}
		fmt.Fprintf(msg, "%s is %s (%s) in the practice directory, at %s.\n", c, p.Name, dash(p.Address()), p.BaseURL)
		return name, p.BaseURL, nil
	}
	why := fmt.Sprintf("%s is not in the practice directory (%s)", c, dir.URL())
	if derr != nil {
		why = fmt.Sprintf("the practice directory could not be read (%v)", derr)
	}
	if !healowCode.MatchString(c) {
		return "", "", fmt.Errorf("%s; check the code with healow find NAME, or give the practice's address with --fhir-base-url", why)
	}
	base := directory.HealowBaseURL(c)
	if name == "" {
		name = c
	}
	fmt.Fprintf(msg, "%s; trying healow's address for %s, %s.\n", why, c, base)
	return name, base, nil
}
