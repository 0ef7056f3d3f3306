package fake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Benchmarks of the Bedrock fake, client included (both run in this
// process, on loopback). Run with
//
//	go test -run '^$' -bench Bedrock -benchtime 5s ./backends/fake/
//
// "instant" in testdata/fake/bedrock-bench.yaml has no service time, so the
// numbers are the protocol's cost: HTTP, SigV4 on both sides, JSON.

const brBenchInstant = "anthropic.claude-3-haiku-20240307-v1:0"

// brBenchServer serves bedrock-bench.yaml's deployments with SigV4
// verification on or off (off only to measure what it costs).
func brBenchServer(b testing.TB, verify bool) (*Server, string) {
	b.Helper()
	s, err := New(brMustLoad(b, "bedrock-bench.yaml"), Options{})
	require.NoError(b, err)
	api := newBedrockAPI(s)
	api.noVerify = !verify
	mux := http.NewServeMux()
	api.register(mux)
	l, err := Listen("127.0.0.1:0", false)
	require.NoError(b, err)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(l) }()
	b.Cleanup(func() { _ = hs.Close() })
	return s, "http://" + l.Addr().String()
}

// brPlainClient sends SigV4-signed requests with net/http, signing each
// request the way the SDK does (the SDK's signer, current time).
type brPlainClient struct {
	c      *http.Client
	target string
	body   []byte
	hash   string
	creds  aws.Credentials
	signer *v4.Signer
	header [2]string // optional extra header, e.g. the output length
}

func newBrPlainClient(s *Server, base, model, op string, body []byte) *brPlainClient {
	c := s.Credentials()
	sum := sha256.Sum256(body)
	return &brPlainClient{
		c:      &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}},
		target: base + "/model/" + url.PathEscape(model) + "/" + op,
		body:   body, hash: hex.EncodeToString(sum[:]),
		creds:  aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey},
		signer: v4.NewSigner(),
	}
}

func (p *brPlainClient) do() (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, p.target, bytes.NewReader(p.body))
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = []string{"application/json"}
	if p.header[0] != "" {
		req.Header[p.header[0]] = []string{p.header[1]}
	}
	if err := p.signer.SignHTTP(context.Background(), p.creds, req, p.hash, "bedrock", "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	return p.c.Do(req)
}

// brCPU returns the CPU time this process has used (user + system), read
// from /proc/self/stat; 0 where that is not available. Benchmarks report
// CPU per request next to wall-clock rates because on a shared 2-core
// machine other processes move the wall-clock numbers far more than the
// code does: CPU per request, client and server together, is what the
// code costs, and 2 / (CPU per request) is what two idle cores would do.
func brCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields, in clock ticks (USER_HZ, 100 on Linux).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// brReportCPU reports CPU per op and the rate two idle cores would reach.
func brReportCPU(b *testing.B, cpu0 time.Duration, unit string) {
	cpu := brCPU() - cpu0
	if cpu <= 0 || b.N == 0 {
		return
	}
	per := float64(cpu.Microseconds()) / float64(b.N)
	b.ReportMetric(per, "cpu-µs/"+unit)
	b.ReportMetric(2e6/per, unit+"/s@2cpu")
}

const brBenchBody = `{"messages":[{"role":"user","content":[{"text":"hello there world"}]}],"system":[{"text":"be brief"}],"inferenceConfig":{"maxTokens":64}}`

// BenchmarkBedrockConverse measures non-streaming Converse round trips per
// second: with the real SDK client, and with plain signed net/http with
// the fake's SigV4 verification on and off.
func BenchmarkBedrockConverse(b *testing.B) {
	b.Run("sdk", func(b *testing.B) {
		s, base := brBenchServer(b, true)
		c, _ := brClient(b, s, base)
		in := brConverseInput(brBenchInstant, "hello there world", 64)
		ctx := context.Background()
		b.ReportAllocs()
		b.SetParallelism(4)
		b.ResetTimer()
		cpu0 := brCPU()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Converse(ctx, in); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		brReportCPU(b, cpu0, "req")
	})
	for _, verify := range []bool{true, false} {
		name := "plain-signed"
		if !verify {
			name = "plain-signed-noverify"
		}
		b.Run(name, func(b *testing.B) {
			s, base := brBenchServer(b, verify)
			p := newBrPlainClient(s, base, brBenchInstant, "converse", []byte(brBenchBody))
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			cpu0 := brCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := p.do()
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			brReportCPU(b, cpu0, "req")
		})
	}
}

// BenchmarkBedrockStreamTokens measures streamed tokens per second: each
// op is a 1,000-token ConverseStream with no service time, whose frames
// the client decodes with the SDK's event-stream decoder. The decoder reads
// a few bytes at a time, so the client buffers the body: unbuffered, the
// client's decoding is two thirds of the CPU and the fake one tenth.
func BenchmarkBedrockStreamTokens(b *testing.B) {
	const tokens = 1000
	s, base := brBenchServer(b, true)
	p := newBrPlainClient(s, base, brBenchInstant, "converse-stream", []byte(`{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":4096}}`))
	p.header = [2]string{brOutputHeader, strconv.Itoa(tokens)}
	b.ReportAllocs()
	b.SetParallelism(2)
	b.ResetTimer()
	cpu0 := brCPU()
	b.RunParallel(func(pb *testing.PB) {
		dec := eventstream.NewDecoder()
		payload := make([]byte, 0, 1024)
		br := bufio.NewReaderSize(nil, 32<<10)
		for pb.Next() {
			resp, err := p.do()
			if err != nil {
				b.Error(err)
				return
			}
			br.Reset(resp.Body)
			n := 0
			for {
				m, err := dec.Decode(br, payload)
				if err != nil {
					break
				}
				if m.Headers.Get(":event-type").String() == "contentBlockDelta" {
					n++
				}
			}
			resp.Body.Close()
			if n != tokens {
				b.Errorf("%d tokens, want %d", n, tokens)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)*tokens/b.Elapsed().Seconds(), "tokens/s")
	if cpu := brCPU() - cpu0; cpu > 0 {
		b.ReportMetric(2*float64(b.N)*tokens/cpu.Seconds(), "tokens/s@2cpu")
	}
}

// TestBedrockThousandStreams holds 1,000 ConverseStream streams open at
// once through the real SDK client: all are admitted while the first is
// still waiting for its first token (TTFT 4 s), then each delivers its
// 16 tokens and completes without error.
func TestBedrockThousandStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 connections")
	}
	const streams, tokens = 1000, 16
	s, base := brBenchServer(t, true)
	dep := s.bedrock["openai.gpt-oss-20b-1:0"]
	// One client per stream, sharing the HTTP client: smithy-go v1.28.9's
	// event-stream codec is shared by all streams of a client and writes a
	// field on every decode, which the race detector reports when streams of
	// one client run concurrently (benign today: the field is a nil slice).
	_, doer := brClient(t, s, base)
	cred := s.Credentials()
	opts := bedrockruntime.Options{
		Region: brTestRegion, BaseEndpoint: aws.String(base), HTTPClient: doer,
		Credentials: credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
	}
	// Generous: under -race on a busy machine the client alone can take 30 s.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if n := dep.Stats.InFlight.Load(); n > peak.Load() {
					peak.Store(n)
				}
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	var okCount atomic.Int64
	errs := make(chan error, streams)
	for range streams {
		wg.Go(func() {
			c := bedrockruntime.New(opts, func(o *bedrockruntime.Options) { o.AuthSchemePreference = []string{"sigv4"} })
			out, err := c.ConverseStream(ctx, brStreamInput(brConverseInput("openai.gpt-oss-20b-1:0", "hi there", 0)))
			if err != nil {
				errs <- err
				return
			}
			st := out.GetStream()
			defer st.Close()
			n := 0
			for ev := range st.Events() {
				if _, ok := ev.(*types.ConverseStreamOutputMemberContentBlockDelta); ok {
					n++
				}
			}
			if err := st.Err(); err != nil {
				errs <- err
				return
			}
			if n == tokens {
				okCount.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.EqualValues(t, streams, okCount.Load())
	assert.EqualValues(t, streams, peak.Load(), "all streams were open at once")
	brSettled(t, dep)
	assert.EqualValues(t, streams, dep.Stats.OK.Load())
	t.Logf("%d streams × %d tokens in %v, peak in flight %d", streams, tokens, time.Since(start), peak.Load())
}

// BenchmarkBedrockDecode measures the request decoders on typical bodies.
func BenchmarkBedrockDecode(b *testing.B) {
	d := &Deployment{Name: "gpt", Model: brTestGPT}
	for _, bc := range []struct {
		name string
		body string
		dec  func([]byte, *brRequest) *brError
	}{
		{"converse", brBenchBody, brDecodeConverse},
		{"invoke-anthropic", brAnthropicBody, func(body []byte, r *brRequest) *brError {
			return brDecodeInvoke(body, brKindAnthropic, brTestClaude, d, r)
		}},
		{"invoke-openai", brOpenAIBody, func(body []byte, r *brRequest) *brError {
			return brDecodeInvoke(body, brKindOpenAI, brTestGPT, d, r)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(bc.body)
			b.ReportAllocs()
			for b.Loop() {
				var r brRequest
				if e := bc.dec(body, &r); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}
