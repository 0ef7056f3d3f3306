package fake

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Benchmarks of the Azure fake on loopback, client included: both run in
// this process on the same cores, so the numbers are what one machine
// sustains end to end, not the server alone. Run with
//
//	go test -run '^$' -bench Azure -benchmem ./backends/fake/

// azBenchClient is a keep-alive client with a connection per goroutine.
func azBenchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
}

// azBenchRequest returns a request factory for a deployment of the
// azure-basic scenario.
func azBenchRequest(url, dep string, body []byte, out int) func() *http.Request {
	target := url + "/openai/deployments/" + dep + "/chat/completions?api-version=" + azAPIVer
	outs := strconv.Itoa(out)
	return func() *http.Request {
		req, _ := http.NewRequest("POST", target, bytes.NewReader(body))
		req.Header.Set("api-key", azTestKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(OutputTokensHeader, outs)
		return req
	}
}

// BenchmarkAzureChat: non-streaming requests per second against a
// deployment with no latency and unlimited capacity, 16 client goroutines
// with keep-alive connections.
func BenchmarkAzureChat(b *testing.B) {
	srv := azNewServer(b, "azure-basic.yaml", Options{})
	url := azServe(b, srv)
	client := azBenchClient()
	defer client.CloseIdleConnections()
	newReq := azBenchRequest(url, "aoai-instant", []byte(azBody(azPrompt, map[string]any{"max_tokens": 64})), 20)
	b.ReportAllocs()
	b.SetParallelism(8)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 4096)
		for pb.Next() {
			resp, err := client.Do(newReq())
			if err != nil {
				b.Error(err)
				return
			}
			for {
				if _, err := resp.Body.Read(buf); err != nil {
					break
				}
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkAzureStream: 100-token streams from a deployment with no latency
// (tokens fall due together, so they go out 16 to a chunk), read to the end
// by 16 client goroutines; reports output tokens per second.
func BenchmarkAzureStream(b *testing.B) {
	srv := azNewServer(b, "azure-basic.yaml", Options{})
	url := azServe(b, srv)
	client := azBenchClient()
	defer client.CloseIdleConnections()
	newReq := azBenchRequest(url, "aoai-instant", []byte(azBody(azPrompt, map[string]any{"max_tokens": 200, "stream": true})), 100)
	b.ReportAllocs()
	b.SetParallelism(8)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Do(newReq())
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/el, "streams/s")
	b.ReportMetric(float64(b.N)*100/el, "tokens/s")
}

// BenchmarkAzureDecode: the request decoder alone.
func BenchmarkAzureDecode(b *testing.B) {
	body := []byte(azBody(azPrompt, map[string]any{"max_tokens": 64, "stream": true, "stream_options": map[string]any{"include_usage": true}}))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, e := azDecode(body, false); e != nil {
			b.Fatal(e.message)
		}
	}
}

// BenchmarkAzureChunkEncode: one content chunk of one token, the unit of
// streaming work.
func BenchmarkAzureChunkEncode(b *testing.B) {
	var enc azChunkEncoder
	enc.reset(azNewCompletionID(), time.Now().Unix(), "gpt-4o-2024-11-20", "fp_0123456789")
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	i := int32(0)
	for b.Loop() {
		buf = enc.appendContentWords(buf[:0], azWordSeed, i, 1)
		i++
	}
	b.SetBytes(int64(len(buf)))
}

// azDiscardWriter is a ResponseWriter that keeps nothing, to time the
// handler without a network or a client.
type azDiscardWriter struct{ h http.Header }

func (w *azDiscardWriter) Header() http.Header         { return w.h }
func (w *azDiscardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *azDiscardWriter) WriteHeader(int)             {}
func (w *azDiscardWriter) Flush()                      {}

// BenchmarkAzureHandler: the handler alone (routing, auth, decoding,
// admission, response), a non-streaming call per op, no network: the
// fake's own share of BenchmarkAzureChat.
func BenchmarkAzureHandler(b *testing.B) {
	srv := azNewServer(b, "azure-basic.yaml", Options{})
	h := srv.Handler()
	body := []byte(azBody(azPrompt, map[string]any{"max_tokens": 64}))
	req, _ := http.NewRequest("POST", "http://x/openai/deployments/aoai-instant/chat/completions?api-version="+azAPIVer, nil)
	req.Header.Set("api-key", azTestKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(OutputTokensHeader, "20")
	w := &azDiscardWriter{h: http.Header{}}
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		req.ContentLength = int64(len(body))
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
