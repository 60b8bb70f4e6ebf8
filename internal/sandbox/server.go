package sandbox

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Options configure a sandbox. The zero value is usable.
type Options struct {
	Addr           string           // listen address; "" → "127.0.0.1:0"
	Client         Client           // zero → DefaultClient(); empty fields are filled from it
	AccessTokenTTL time.Duration    // 0 → 1h
	PageSize       int              // default _count; 0 → 10 (max 50)
	Now            func() time.Time // nil → time.Now; drives token and code expiry and the Date header, not TLS
	// Practices is how many practices the sandbox serves: its two by default, and when more, copies
	// of them under new codes, names and patient ids, for tests of many practices at once.
	Practices int
	// Visits, when more than a practice's own 3 or 4, gives every practice a long record of that
	// many visits a month apart, each with an encounter, a lab panel and its report and vital
	// signs, for benchmarks of a whole record; the last Notes of them (0: all) also have a
	// progress note. Visits 352 and Notes 195 make the first practice's record 5,011 resources
	// and 200 documents.
	Visits, Notes int
	// Logger receives one line per request (method, route pattern, status,
	// duration) and server errors. nil → nothing is logged. Paths are logged
	// as route patterns, so no patient id, code or token ever reaches it.
	Logger *slog.Logger
}

const (
	defaultPageSize = 10
	maxPageSize     = 50
	defaultTTL      = time.Hour
	codeTTL         = 60 * time.Second
	refreshTTL      = 90 * 24 * time.Hour // eCW's reported refresh-token life
)

// Server is a running sandbox. It is safe for concurrent use.
type Server struct {
	client   Client
	ttl      time.Duration
	pageSize int
	now      func() time.Time
	log      *slog.Logger

	url       string
	tls       *authority
	idKey     *idTokenKey
	transport *http.Transport
	srv       *http.Server
	served    chan struct{}
	closeOnce sync.Once
	connMu    sync.Mutex
	fresh     map[net.Conn]struct{} // accepted, no request read yet

	practices []*practice // immutable after Start
	byCode    map[string]*practice
	directory []byte // the endpoint directory's Bundle, immutable after Start

	mu      sync.Mutex // guards everything below
	codes   map[string]*authCode
	access  map[string]*accessToken
	refresh map[string]*refreshToken
	faults  map[string]Faults
	buckets map[string]bucket
	stats   Stats
	added   map[string]map[string][]*record // by practice code and type: what AddNote added
}

// Start generates a fresh CA (ECDSA P-256) and a leaf certificate for
// 127.0.0.1, ::1 and localhost, listens with TLS on opts.Addr and serves in a
// goroutine until Close.
func Start(opts Options) (*Server, error) {
	s := &Server{
		client:   opts.Client.withDefaults(),
		ttl:      opts.AccessTokenTTL,
		pageSize: opts.PageSize,
		now:      opts.Now,
		log:      opts.Logger,
		served:   make(chan struct{}),
		fresh:    map[net.Conn]struct{}{},
		codes:    map[string]*authCode{},
		access:   map[string]*accessToken{},
		refresh:  map[string]*refreshToken{},
		faults:   map[string]Faults{},
		buckets:  map[string]bucket{},
		byCode:   map[string]*practice{},
	}
	if s.ttl <= 0 {
		s.ttl = defaultTTL
	}
	if s.pageSize <= 0 {
		s.pageSize = defaultPageSize
	}
	s.pageSize = min(s.pageSize, maxPageSize)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	host, extra := urlHost(tcp.IP)
	s.url = "https://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))

	if s.tls, err = newAuthority(extra); err != nil {
		ln.Close()
		return nil, fmt.Errorf("sandbox: generate certificates: %w", err)
	}
	if s.idKey, err = newIDTokenKey(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("sandbox: generate id_token key: %w", err)
	}
	for _, p := range practices(opts.Practices, opts.Visits, opts.Notes) {
		s.practices = append(s.practices, p)
		s.byCode[p.code] = p
	}
	s.directory = s.buildDirectory()
	s.transport = &http.Transport{TLSClientConfig: s.tls.clientConfig()}

	// HTTP/1.1 only: HTTP/2's graceful GOAWAY makes Shutdown wait about a
	// second for every client connection still open, which would make each
	// test's Close slow, and nothing about eCW's behaviour depends on h2.
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)

	s.srv = &http.Server{
		Handler:           s.logRequests(s.routes()),
		TLSConfig:         s.tls.serverConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		Protocols:         protocols,
		ConnState:         s.trackConn,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.served)
		// Certificates live in TLSConfig, hence the empty file names.
		if err := s.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox stopped serving", "err", err)
		}
	}()
	s.log.Info("sandbox listening", "url", s.url)
	return s, nil
}

// urlHost picks the host for URL(): a wildcard listen address is reached
// through loopback, which the certificate always covers. Any other specific
// address is returned as an extra name for the certificate.
func urlHost(ip net.IP) (host string, extra []net.IP) {
	switch {
	case ip == nil || ip.IsUnspecified():
		return "127.0.0.1", nil
	case ip.IsLoopback():
		return ip.String(), nil
	default:
		return ip.String(), []net.IP{ip}
	}
}

// Close stops serving and waits for in-flight handlers to finish. It is
// safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.transport.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- s.srv.Shutdown(ctx) }()
		// Shutdown counts a connection that has not sent a request yet as
		// busy for its first five seconds. Such a connection runs no
		// handler, so it is closed here instead of waited for; a client
		// that dialled in parallel would otherwise stall every Close.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			select {
			case err := <-shut:
				if err != nil {
					s.srv.Close()
				}
				break wait
			case <-tick.C:
				s.closeFreshConns()
			}
		}
		<-s.served
	})
}

// trackConn remembers connections that have not started a request.
func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if state == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
}

func (s *Server) closeFreshConns() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c := range s.fresh {
		c.Close()
		delete(s.fresh, c)
	}
}

// URL is the sandbox's origin, https://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// Host is the sandbox's host as HEALOW_ALLOWED_HOSTS lists it: the address, without the port.
// healow refuses a FHIR server on this machine unless it is listed.
func (s *Server) Host() string {
	u, err := url.Parse(s.url)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// CACertPEM returns the PEM of the CA that signed the server certificate,
// suitable for SSL_CERT_FILE.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.tls.caPEM...) }

// CertPool returns a pool holding only the sandbox CA.
func (s *Server) CertPool() *x509.CertPool { return s.tls.pool.Clone() }

// HTTPClient returns a client that trusts only the sandbox CA and does not
// follow redirects, so a caller sees the authorize endpoint's 302 itself.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{
		Transport: s.transport,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Practice describes one sandbox practice and its single patient.
type Practice struct {
	Code        string // eCW practice code, six upper-case letters
	Name        string
	BaseURL     string // URL()+"/fhir/r4/"+Code
	PatientID   string
	PatientName string
}

// Practices lists the sandbox's practices in a stable order.
func (s *Server) Practices() []Practice {
	out := make([]Practice, 0, len(s.practices))
	for _, p := range s.practices {
		out = append(out, Practice{
			Code:        p.code,
			Name:        p.name,
			BaseURL:     s.baseURL(p),
			PatientID:   p.patientID,
			PatientName: p.patientName,
		})
	}
	return out
}

func (s *Server) baseURL(p *practice) string { return s.url + "/fhir/r4/" + p.code }

// routes lays the endpoints out as eCW does: FHIR bases under /fhir/r4/<CODE>
// and one OAuth server for every practice under /oauth/oauth2.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/oauth2/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /oauth/oauth2/authorize", s.handleAuthorize) // eCW advertises authorize-post
	mux.HandleFunc("POST /oauth/oauth2/token", s.handleToken)
	mux.HandleFunc("GET /oauth/oauth2/jwks", s.handleJWKS)
	mux.HandleFunc("GET /.well-known/smart-configuration", s.handleRootSmartConfig)
	mux.HandleFunc("GET /fhir/r4/{code}/.well-known/smart-configuration", s.handleSmartConfig)
	mux.HandleFunc("/fhir/r4/{code}/{rest...}", s.handleFHIR)
	mux.HandleFunc("/fhir/r4/{code}", s.handleFHIR)
	mux.HandleFunc("GET "+DirectoryPath, s.handleDirectory)
	return mux
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// logRequests logs the matched route pattern rather than the path: paths
// carry patient and resource ids, and queries carry codes and state.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// The Date header reads the sandbox's clock, so a test can set how far the practice's
		// clock is from the client's (healow doctor compares them).
		w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern // set in place by ServeMux
		if route == "" {
			route = "(unmatched)"
		}
		s.log.Info("sandbox request", "method", r.Method, "route", route,
			"status", rec.status, "duration", time.Since(start))
	})
}
