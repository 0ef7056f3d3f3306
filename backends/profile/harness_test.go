package profile

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/backends/record"
	"github.com/mcbench/mcbench/scenarios"
)

// The recording harness: the fakes of a scenario behind the recording proxy,
// driven by concurrent clients with seeded prompt and output lengths. It
// records the example in testdata (TestExampleProfile -update) and the
// recordings the fit must recover known models from.

const harnessKey = "harness-key-not-a-secret"

// callPlan is one kind of call the harness makes.
type callPlan struct {
	// Azure deployment or Bedrock model id.
	Azure, Bedrock string
	// N calls, Conc at once.
	N, Conc int
	// Stream says whether to stream (Azure; Bedrock always uses
	// ConverseStream when streaming, Converse otherwise).
	Stream bool
	// Input and Output are the ranges of prompt words and output tokens.
	InMin, InMax, OutMin, OutMax int
	Seed                         uint64
	// Stagger delays the start of the i-th client by i·Stagger, so the
	// calls do not arrive in one burst whose CPU cost (building, parsing
	// and forwarding kilobytes of prompt at once) would be recorded as
	// latency.
	Stagger time.Duration
}

// recordFakes serves scenario s with the fakes, records plans through the
// proxy into sink and returns when every call is done.
func recordFakes(t testing.TB, s *scenarios.Scenario, sink record.Sink, plans ...callPlan) {
	t.Helper()
	srv, err := fake.New(s, fake.Options{Credentials: fake.Credentials{APIKey: harnessKey}})
	require.NoError(t, err)
	up := httptest.NewServer(srv.Handler())
	defer up.Close()
	u, _ := url.Parse(up.URL)
	fc := srv.Credentials()
	p, err := record.New(record.Options{Upstream: u, Sink: sink,
		AWS: &aws.Credentials{AccessKeyID: fc.AccessKeyID, SecretAccessKey: fc.SecretAccessKey}})
	require.NoError(t, err)
	proxy := httptest.NewServer(p)
	defer proxy.Close()

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer hc.CloseIdleConnections()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, plan := range plans {
		rng := rand.New(rand.NewPCG(plan.Seed, 1))
		type job struct{ in, out int }
		jobs := make(chan job)
		for i := range plan.Conc {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * plan.Stagger)
				br := bedrockClient(proxy.URL, hc)
				for j := range jobs {
					var err error
					if plan.Azure != "" {
						err = azureCall(hc, proxy.URL, plan, j.in, j.out)
					} else {
						err = bedrockCall(br, plan, j.in, j.out)
					}
					if err != nil {
						select {
						case errs <- err:
						default:
						}
					}
				}
			})
		}
		wg.Go(func() {
			defer close(jobs)
			for range plan.N {
				jobs <- job{plan.InMin + rng.IntN(plan.InMax-plan.InMin+1), plan.OutMin + rng.IntN(plan.OutMax-plan.OutMin+1)}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return p.InFlight() == 0 }, 5e9, 1e6)
}

func azureCall(hc *http.Client, base string, plan callPlan, in, out int) error {
	body := fmt.Sprintf(`{"messages":[{"role":"user","content":%q}],"max_tokens":%d,"stream":%v%s}`,
		strings.Repeat("word ", in), plan.OutMax+10, plan.Stream, map[bool]string{true: `,"stream_options":{"include_usage":true}`}[plan.Stream])
	req, err := http.NewRequest("POST", base+"/openai/deployments/"+url.PathEscape(plan.Azure)+"/chat/completions?api-version=2024-10-21", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("api-key", harnessKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(fake.OutputTokensHeader, strconv.Itoa(out))
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound {
		err = fmt.Errorf("azure call: HTTP %d", resp.StatusCode)
	}
	return err
}

// outputDoer sets the fake's output-length header on a Bedrock request (after
// signing; the proxy re-signs anyway).
type outputDoer struct{ c *http.Client }

type outputKey struct{}

func (d outputDoer) Do(r *http.Request) (*http.Response, error) {
	if n, ok := r.Context().Value(outputKey{}).(int); ok {
		r.Header.Set(fake.OutputTokensHeader, strconv.Itoa(n))
	}
	return d.c.Do(r)
}

func bedrockClient(base string, hc *http.Client) *bedrockruntime.Client {
	// The client signs with credentials of its own; the proxy re-signs.
	return bedrockruntime.New(bedrockruntime.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(base), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAHARNESSCLIENT000", "harness-client-secret", ""),
		HTTPClient:  outputDoer{hc},
	}, func(o *bedrockruntime.Options) { o.AuthSchemePreference = []string{"sigv4"} })
}

func bedrockCall(c *bedrockruntime.Client, plan callPlan, in, out int) error {
	ctx := context.WithValue(context.Background(), outputKey{}, out)
	msgs := []brtypes.Message{{Role: brtypes.ConversationRoleUser,
		Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: strings.Repeat("word ", in)}}}}
	cfg := &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(int32(plan.OutMax + 10))}
	if !plan.Stream {
		_, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(plan.Bedrock), Messages: msgs, InferenceConfig: cfg})
		return err
	}
	o, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(plan.Bedrock), Messages: msgs, InferenceConfig: cfg})
	if err != nil {
		return err
	}
	st := o.GetStream()
	defer st.Close()
	for range st.Events() {
	}
	return st.Err()
}

// memSink keeps recorded calls in memory.
type memSink struct {
	mu    sync.Mutex
	calls []record.Call
}

func (m *memSink) Write(c *record.Call) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, *c)
	return nil
}
