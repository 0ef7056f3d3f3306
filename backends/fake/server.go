// Package fake serves a scenario's deployments as local HTTP servers that
// speak the Azure OpenAI and Amazon Bedrock Runtime wire protocols well
// enough that the official SDKs work against them unchanged except for the
// endpoint and credentials. Behind the protocols run the deployment models
// of package behavior against the wall clock: latency, concurrency slots and
// queue, provider-true quotas and fault windows, as in the simulator.
package fake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcbench/mcbench/internal/loopback"
	"github.com/mcbench/mcbench/scenarios"
)

// Credentials are what clients must present. The fake checks them the way
// the provider does: Azure by API key, Bedrock by SigV4 signature.
type Credentials struct {
	// APIKey is the Azure OpenAI key (api-key header or Bearer token).
	APIKey string `json:"api_key"`
	// AccessKeyID and SecretAccessKey are the AWS credentials requests must be signed with.
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// NewCredentials returns random credentials for one server run.
func NewCredentials() Credentials {
	r := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	return Credentials{
		APIKey:          r(16),
		AccessKeyID:     "AKIAFAKE" + strings.ToUpper(r(6)),
		SecretAccessKey: r(20),
	}
}

// Server holds the fake deployments of one scenario.
type Server struct {
	creds       Credentials
	deps        []*Deployment
	azure       map[string]*Deployment // by deployment name
	bedrock     map[string]*Deployment // by model id and by deployment name
	mux         *http.ServeMux
	maxBody     int64
	start       time.Time
	readTimeout time.Duration
	// epoch is the last EpochHeader value applied (Unix ns; 0: none yet).
	epoch   atomic.Int64
	epochMu sync.Mutex
}

// Options configure a Server.
type Options struct {
	// Credentials to accept; zero fields are generated at random.
	Credentials Credentials
	// MaxBodyBytes bounds a request body (default 1 MiB); larger bodies get
	// the provider's 413/400 error shape.
	MaxBodyBytes int64
	// Start is the instant fault windows and quotas are measured from
	// (default: when New is called).
	Start time.Time
}

// New builds the fake deployments of a validated scenario. Azure-kind
// deployments are routed by name, Bedrock-kind ones by model id (or name);
// generic ones are served on both protocols.
func New(s *scenarios.Scenario, opt Options) (*Server, error) {
	c := opt.Credentials
	gen := NewCredentials()
	if c.APIKey == "" {
		c.APIKey = gen.APIKey
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		c.AccessKeyID, c.SecretAccessKey = gen.AccessKeyID, gen.SecretAccessKey
	}
	start := opt.Start
	if start.IsZero() {
		start = time.Now()
	}
	srv := &Server{
		creds: c, azure: map[string]*Deployment{}, bedrock: map[string]*Deployment{},
		mux: http.NewServeMux(), maxBody: opt.MaxBodyBytes, start: start, readTimeout: 10 * time.Second,
	}
	if srv.maxBody <= 0 {
		srv.maxBody = 1 << 20
	}
	for i := range s.Deployments {
		d := newDeployment(s, i, start)
		srv.deps = append(srv.deps, d)
		if d.ProviderKind != scenarios.KindBedrock {
			srv.azure[d.Name] = d
		}
		if d.ProviderKind != scenarios.KindAzure {
			srv.bedrock[d.Name] = d
			if d.Model != "" {
				if prev, dup := srv.bedrock[d.Model]; dup && prev != d {
					return nil, fmt.Errorf("fake: deployments %q and %q serve model id %q; Bedrock routes by model id, so give them distinct models", prev.Name, d.Name, d.Model)
				}
				srv.bedrock[d.Model] = d
			}
		}
	}
	srv.registerAzure(srv.mux)
	srv.registerBedrock(srv.mux)
	return srv, nil
}

// Credentials returns the credentials the server accepts.
func (s *Server) Credentials() Credentials { return s.creds }

// Deployments returns the served deployments in scenario order.
func (s *Server) Deployments() []*Deployment { return s.deps }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Endpoint describes how a client reaches one fake deployment; it is the
// shape `mcbench fake --json` prints.
type Endpoint struct {
	Name     string `json:"name"`
	Provider string `json:"provider"` // "azure" or "bedrock"
	Endpoint string `json:"endpoint"` // base URL
	// Deployment is the Azure deployment name.
	Deployment string `json:"deployment,omitempty"`
	// ModelID is the Bedrock model id.
	ModelID string `json:"model_id,omitempty"`
	Region  string `json:"region"`
	APIKey  string `json:"api_key,omitempty"`

	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
}

// Endpoints lists how to reach each deployment at baseURL.
func (s *Server) Endpoints(baseURL string) []Endpoint {
	var out []Endpoint
	for _, d := range s.deps {
		if d.ProviderKind != scenarios.KindBedrock {
			out = append(out, Endpoint{Name: d.Name, Provider: "azure", Endpoint: baseURL, Deployment: d.Name, Region: d.Region, APIKey: s.creds.APIKey})
		}
		if d.ProviderKind != scenarios.KindAzure {
			id := d.Model
			if id == "" {
				id = d.Name
			}
			out = append(out, Endpoint{Name: d.Name, Provider: "bedrock", Endpoint: baseURL, ModelID: id, Region: d.Region,
				AccessKeyID: s.creds.AccessKeyID, SecretAccessKey: s.creds.SecretAccessKey})
		}
	}
	return out
}

// ErrNotLoopback is returned (wrapped) by Listen for an address that is not
// loopback.
var ErrNotLoopback = loopback.ErrNotLoopback

// Listen opens a TCP listener, refusing non-loopback addresses unless
// allowAny is set: the fakes are test doubles, not services. A bare ":port"
// binds 127.0.0.1 (see loopback.Resolve).
func Listen(addr string, allowAny bool) (net.Listener, error) {
	l, err := loopback.Listen(addr, allowAny)
	if err != nil {
		return nil, fmt.Errorf("fake: %w", err)
	}
	return l, nil
}

// Serve serves on l until ctx is done, then shuts down gracefully, giving
// in-flight streams up to grace to finish.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: s.readTimeout,
		// A slow client must send its body within this time (slowloris guard).
		ReadTimeout:    s.readTimeout,
		MaxHeaderBytes: 64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return nil
}

// sleepCtx sleeps for d or until ctx is done; it reports whether it slept fully.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// CountTokens estimates the tokens of a prompt text the way the fakes and
// mcbench's load generator agree to: one token per whitespace-separated
// word. The load generator builds prompts of exactly the scenario's input
// length in words, so both sides count the same.
func CountTokens(text string) int32 {
	n, in := int32(0), false
	for i := 0; i < len(text); i++ {
		sp := text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

// words is the vocabulary of synthetic output.
var words = strings.Fields(`the of and to in a is that for it as was with be by on not he this are or his from at which but have an
they you were her all she there would their we him been has when who will more no if out so said what up its about into than them can
only other new some could time these two may then do first any my now such like our over man me even most made after also did many
before must through back years where much your way well down should because each just those people how too little state good very make
world still own see men work long get here between both life being under never day same another know while last might us great old year
off come since against go came right used take three`)

// AppendWords appends n synthetic words (the i-th output token is
// words[(seed+i) % len]) separated by spaces, with a leading space unless
// first. Each word is one output token.
func AppendWords(dst []byte, seed uint64, from, n int32) []byte {
	for i := from; i < from+n; i++ {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, words[(seed+uint64(i))%uint64(len(words))]...)
	}
	return dst
}

// StartLoopback builds the fakes of s and serves them on a free loopback
// port until ctx is done: what `mcbench load --target fake`, `mcbench twin`
// and the tests that drive both engines need. It returns the server and
// its base URL ("http://127.0.0.1:PORT").
func StartLoopback(ctx context.Context, s *scenarios.Scenario, opt Options) (*Server, string, error) {
	srv, err := New(s, opt)
	if err != nil {
		return nil, "", err
	}
	l, err := Listen("127.0.0.1:0", false)
	if err != nil {
		return nil, "", err
	}
	go func() { _ = srv.Serve(ctx, l, time.Second) }()
	return srv, "http://" + l.Addr().String(), nil
}
