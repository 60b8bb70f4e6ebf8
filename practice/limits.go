package practice

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// ErrNotThisPatient: a request or an answer reaches records that are not the connected patient's.
// The token covers one patient, but a server may not enforce it, so healow refuses to ask for
// anyone else's records and leaves out whatever another patient's comes back.
var ErrNotThisPatient = errors.New("not the connected patient's record")

// ErrUnknownAttachment: an attachment (a Binary) that none of the patient's records seen by this
// actor holds. The caller may look through the patient's documents and ask again.
var ErrUnknownAttachment = errors.New("no record of the connected patient seen so far holds this attachment")

// errNoCapability: the search can be limited once the practice's CapabilityStatement is read.
var errNoCapability = errors.New("the practice's CapabilityStatement, which says how to limit a search to the patient, has not been read")

// limits is what keeps a request to the connected patient: their id, the practice's declared
// search parameters, and the attachments the patient's records hold.
type limits struct {
	patient string
	cap     *capability                  // nil until the CapabilityStatement was read
	known   func(attachment string) bool // an absolute URL inside the base
	paged   func(link string) bool       // a next link a checked answer of this actor gave
}

// url resolves r against base (normalised, no trailing slash) for the patient in l. A search of
// a type that holds patient data is limited to the patient through the parameter the practice
// declares for it, or refused; a read of another patient's Patient, an attachment none of the
// patient's records holds, a paging link that searches without the patient, and parameters that
// reach other patients are refused before anything is sent.
func (r Request) url(base string, l limits) (string, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	switch {
	case r.Metadata:
		return base + "/metadata", nil
	case r.Next != "":
		u, err := InsideBase(base, r.Next)
		if err != nil {
			return "", err
		}
		return u, l.checkLink(base, u, l.paged != nil && l.paged(u))
	case r.Attachment != "":
		u, err := InsideBase(base, r.Attachment)
		if err != nil {
			return "", fmt.Errorf("url: %w", err)
		}
		if !l.knows(u) {
			return "", ErrUnknownAttachment
		}
		return u, nil
	case r.ID != "":
		u := base + "/" + r.Resource + "/" + r.ID
		switch {
		case r.Resource == "Patient" && r.ID != l.patient:
			return "", fmt.Errorf("%w: Patient/%s is not the patient who consented (%s); this connection reads only their record", ErrNotThisPatient, r.ID, l.patient)
		case r.Resource == "Binary" && !l.knows(u):
			return "", ErrUnknownAttachment
		}
		return u, nil
	}
	if r.Resource == "Binary" {
		return "", fmt.Errorf("%w: a Binary is a document's content and cannot be searched; find the document with search_document_reference and read its attachment", ErrNotThisPatient)
	}
	// A type that holds patient data is limited to the patient, or not searched at all.
	if err := l.checkParams(r.Resource, r.Params, fhir.HoldsPatientData(r.Resource)); err != nil {
		return "", err
	}
	if l.cap == nil {
		return "", errNoCapability
	}
	pin, ok := l.cap.pin(r.Resource)
	if !ok {
		return "", l.unsearchable(r.Resource)
	}
	q := url.Values{}
	for k, v := range r.Params {
		q[k] = append([]string(nil), v...)
	}
	if pin != "" {
		// A limit the model gave itself must name the patient, or it would replace the limit
		// rather than narrow it; then it is sent as healow writes it.
		if err := l.limitNamesThePatient(pin, q[pin]); err != nil {
			return "", err
		}
		q.Set(pin, l.pinValue(pin))
	}
	if len(q) == 0 {
		return base + "/" + r.Resource, nil
	}
	return base + "/" + r.Resource + "?" + q.Encode(), nil
}

func (l limits) knows(u string) bool { return l.known != nil && l.known(u) }

// pinValue is how the pin parameter names the patient: a bare id where the parameter can only
// mean a Patient, a typed reference where it could name another kind of subject.
func (l limits) pinValue(pin string) string {
	if pin == "patient" || pin == "_id" {
		return l.patient
	}
	return "Patient/" + l.patient
}

func (l limits) unsearchable(resource string) error {
	if c, ok := fhir.PatientCompartment(resource); ok && len(c.SubjectParams) > 0 {
		return fmt.Errorf("%w: %s holds patients' records, and the practice's CapabilityStatement declares no way to search it by patient (none of %s), so healow does not search it: the answer could hold other patients' records. Read this patient's %s by id when another record refers to one",
			ErrNotThisPatient, resource, strings.Join(c.SubjectParams, ", "), resource)
	}
	return fmt.Errorf("%w: %s may hold other patients' records and cannot be limited to this patient, so healow does not search it", ErrNotThisPatient, resource)
}

// checkParams refuses what the model may add to reach other patients: a patient, subject or
// other patient-naming parameter that names someone else, a chain that starts from one, a
// reverse chain (_has), server-defined queries (_query, _filter), and _revinclude on a search
// that is not limited to the patient (it would bring in every record that refers to a
// practitioner, a place or an organization, whoever they are about).
func (l limits) checkParams(resource string, params url.Values, pinned bool) error {
	for name, values := range params {
		head, _, chained := strings.Cut(name, ".")
		param, _, _ := strings.Cut(head, ":")
		switch {
		case strings.HasPrefix(name, "_has:") || name == "_has":
			return fmt.Errorf("%w: params.%s: reverse chains (_has) search other records, which may be other patients'; search those records instead, which are limited to this patient", ErrNotThisPatient, cut(name))
		case param == "_query" || param == "_filter":
			return fmt.Errorf("%w: params.%s: server-defined queries cannot be limited to this patient; use plain search parameters", ErrNotThisPatient, param)
		case param == "_revinclude" && !pinned:
			return fmt.Errorf("%w: params._revinclude: on %s it would bring in records about anyone who refers to it; search those records instead, which are limited to this patient", ErrNotThisPatient, resource)
		case chained && fhir.IsPatientParam(param):
			return fmt.Errorf("%w: params.%s: the search is already limited to the patient who consented, so a chain through %s could only reach other patients; leave it out", ErrNotThisPatient, cut(name), param)
		case fhir.IsPatientParam(param) || resource == "Patient" && param == "_id":
			if err := l.onlyThePatient(name, param, values); err != nil {
				return err
			}
		}
	}
	return nil
}

// onlyThePatient refuses values of a patient-naming parameter that name another patient:
// "Patient/<id>", a URL ending so, or a bare id where the parameter can only mean a patient.
func (l limits) onlyThePatient(name, param string, values []string) error {
	_, modifier, _ := strings.Cut(name, ":")
	bare := param == "patient" || param == "_id" || modifier == "Patient"
	for _, v := range values {
		for ref := range strings.SplitSeq(v, ",") {
			if id, ok := patientOf(strings.TrimSpace(ref), bare); ok && id != l.patient {
				return fmt.Errorf("%w: params.%s: %s is not the patient who consented (%s); this connection reads only their records, and searches are limited to them already: leave %s out",
					ErrNotThisPatient, cut(name), quote.Quote(ref), l.patient, cut(name))
			}
		}
	}
	return nil
}

// limitNamesThePatient refuses values of a subject parameter, one that limits a search to a
// patient, that do not all name the connected patient: there a bare id is a patient's, and a
// value that names no patient (a Group, a Practitioner) or another one would search someone
// else's records.
func (l limits) limitNamesThePatient(param string, values []string) error {
	for _, v := range values {
		for ref := range strings.SplitSeq(v, ",") {
			ref = strings.TrimSpace(ref)
			if id, ok := patientOf(ref, true); ref != "" && (!ok || id != l.patient) {
				return fmt.Errorf("%w: params.%s: %s does not name the patient who consented (%s); this connection reads only their records, and searches are limited to them already: leave %s out",
					ErrNotThisPatient, param, quote.Quote(ref), l.patient, param)
			}
		}
	}
	return nil
}

// patientOf reads the patient id in a reference: "Patient/<id>", a URL ending so (a version
// suffix "/_history/<n>" allowed), or a bare id when bare says a bare id is a patient's.
func patientOf(ref string, bare bool) (string, bool) {
	ref, _, _ = strings.Cut(ref, "?")
	ref, _, _ = strings.Cut(ref, "#")
	segs := strings.Split(strings.TrimSuffix(ref, "/"), "/")
	if n := len(segs); n >= 4 && segs[n-2] == "_history" {
		segs = segs[:n-2]
	}
	switch n := len(segs); {
	case n >= 2 && segs[n-2] == "Patient" && segs[n-1] != "":
		return segs[n-1], true
	case n == 1 && bare && ref != "" && !strings.Contains(ref, ":"):
		return ref, true
	}
	return "", false
}

// checkLink checks a paging link. One the actor did not see in an answer (made up by the model,
// or kept from an earlier session) to {base}/{Type}?... of a type that holds patient data must
// carry one of the type's subject parameters, naming only the connected patient, and the same
// parameters as any search. Opaque links ({base}?_getpages=...) are followed; their answers are
// checked like any other. A link an answer gave (own) is the server's own continuation of a
// search that was limited, and is followed even when it no longer names the patient, but never
// when it names another.
func (l limits) checkLink(base, link string, own bool) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("next: not a URL: %w", err)
	}
	rest := strings.Trim(strings.TrimPrefix(u.EscapedPath(), mustPath(base)), "/")
	q := u.Query()
	if err := l.linkNamesNoOtherPatient(rest, q); err != nil {
		return err
	}
	if own || rest == "" {
		return nil
	}
	if strings.Contains(rest, "/") || !fhir.IsResourceType(rest) {
		return errors.New("next: this link does not continue a search of this practice; pass the Bundle's link[next].url as it is")
	}
	if rest == "Binary" {
		return fmt.Errorf("%w: next: a Binary cannot be searched", ErrNotThisPatient)
	}
	kind, patientData := fhir.PatientCompartment(rest)
	if fhir.HoldsPatientData(rest) && !patientData {
		return l.unsearchable(rest)
	}
	if !patientData {
		return nil
	}
	for _, pin := range kind.SubjectParams {
		if len(q[pin]) > 0 {
			return nil // it names only this patient
		}
	}
	return fmt.Errorf("%w: next: this link searches %s without limiting it to the patient who consented; page with the links this search returned", ErrNotThisPatient, rest)
}

// linkNamesNoOtherPatient refuses a paging link whose parameters name another patient: a
// patient-naming parameter or one of its type's subject parameters naming anyone else, or what
// no search may carry (chains through the patient, _has, server-defined queries).
func (l limits) linkNamesNoOtherPatient(typ string, q url.Values) error {
	kind, patientData := fhir.PatientCompartment(typ)
	if err := l.checkParams(typ, q, patientData || !fhir.IsResourceType(typ)); err != nil {
		return fmt.Errorf("next: %w", err)
	}
	for _, pin := range kind.SubjectParams {
		if err := l.limitNamesThePatient(pin, q[pin]); err != nil {
			return fmt.Errorf("next: %w", err)
		}
	}
	return nil
}

func mustPath(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return strings.TrimSuffix(u.EscapedPath(), "/")
}

// cut bounds a name taken from the caller in an error message.
func cut(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
