package fake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var brTestCreds = Credentials{AccessKeyID: "AKIAFAKETEST0001", SecretAccessKey: "s3cr3t-do-not-log"}

// brServerSide turns a client request into what a Go server receives: the
// escaped path split into Path/RawPath, Host out of the header map.
func brServerSide(t testing.TB, r *http.Request, body []byte) *http.Request {
	t.Helper()
	srv := httptest.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	srv.Host = r.Host
	for k, v := range r.Header {
		srv.Header[k] = v
	}
	srv.ContentLength = int64(len(body))
	return srv
}

func brSign(t testing.TB, method, target string, body []byte, hdr http.Header, creds Credentials, region string, at time.Time) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, target, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		r.Header[k] = v
	}
	sum := sha256.Sum256(body)
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey},
		r, hex.EncodeToString(sum[:]), "bedrock", region, at))
	return r
}

func TestBedrockSigV4Verify(t *testing.T) {
	v := newBrVerifier(brTestCreds)
	now := time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC)
	v.now = func() time.Time { return now }
	body := []byte(`{"messages":[]}`)
	hdr := http.Header{
		"Content-Type":          {"application/json"},
		"Amz-Sdk-Invocation-Id": {"0b5f6d4e-1f0a-4c55-9e53-1d2f3a4b5c6d"},
		"Amz-Sdk-Request":       {"attempt=1;  max=3"}, // folded whitespace
		"X-Custom":              {"a", "b"},            // repeated header
	}
	targets := []string{
		"http://127.0.0.1:8080/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
		"http://localhost/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/invoke",
		"http://127.0.0.1:8080/model/m/converse?x=1&a=%20b",
	}
	for _, target := range targets {
		for _, region := range []string{"us-east-1", "eu-central-1"} {
			r := brSign(t, http.MethodPost, target, body, hdr, brTestCreds, region, now.Add(-time.Minute))
			assert.Nil(t, v.verify(brServerSide(t, r, body), body), "%s %s", target, region)
		}
	}

	ok := func() *http.Request {
		return brServerSide(t, brSign(t, http.MethodPost, targets[0], body, hdr, brTestCreds, "us-east-1", now), body)
	}
	type tc struct {
		name   string
		mutate func(r *http.Request) []byte
		code   string
		msg    string
	}
	for _, c := range []tc{
		{"missing", func(r *http.Request) []byte { r.Header.Del("Authorization"); return body }, "MissingAuthenticationTokenException", ""},
		{"other algorithm", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1))
			return body
		}, "IncompleteSignatureException", "algorithm"},
		{"short credential", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/bedrock/aws4_request", "/aws4_request", 1))
			return body
		}, "IncompleteSignatureException", "5 slash-delimited"},
		{"unknown key", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), brTestCreds.AccessKeyID, "AKIAOTHER", 1))
			return body
		}, "UnrecognizedClientException", "security token"},
		{"session token", func(r *http.Request) []byte { r.Header.Set("X-Amz-Security-Token", "tok"); return body }, "UnrecognizedClientException", ""},
		{"wrong service", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/bedrock/", "/s3/", 1))
			return body
		}, "InvalidSignatureException", "correct service"},
		{"scope date", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261126/", "/20261125/", 1))
			return body
		}, "InvalidSignatureException", "Date in Credential scope"},
		{"no date", func(r *http.Request) []byte { r.Header.Del("X-Amz-Date"); return body }, "IncompleteSignatureException", "X-Amz-Date"},
		{"bad date", func(r *http.Request) []byte { r.Header.Set("X-Amz-Date", "yesterday"); return body }, "IncompleteSignatureException", "ISO-8601"},
		{"short hour", func(r *http.Request) []byte { r.Header.Set("X-Amz-Date", "20261126T55900Z"); return body }, "IncompleteSignatureException", "ISO-8601"},
		{"signature not hex", func(r *http.Request) []byte {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-64]+strings.Repeat("Z", 64))
			return body
		}, "InvalidSignatureException", "hexadecimal"},
		{"flipped signature", func(r *http.Request) []byte {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			if last == '0' {
				last = '1'
			} else {
				last = '0'
			}
			r.Header.Set("Authorization", a[:len(a)-1]+string(last))
			return body
		}, "InvalidSignatureException", "does not match"},
		{"signed header dropped", func(r *http.Request) []byte { r.Header.Del("Amz-Sdk-Request"); return body }, "InvalidSignatureException", "does not match"},
		{"signed header changed", func(r *http.Request) []byte { r.Header.Set("Content-Type", "text/plain"); return body }, "InvalidSignatureException", "does not match"},
		{"host changed", func(r *http.Request) []byte { r.Host = "127.0.0.1:9999"; return body }, "InvalidSignatureException", "does not match"},
		{"body changed", func(r *http.Request) []byte { return []byte(`{"messages":[1]}`) }, "InvalidSignatureException", "does not match"},
		{"host not signed", func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
			return body
		}, "InvalidSignatureException", "SignedHeaders"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ok()
			b := c.mutate(r)
			e := v.verify(r, b)
			require.NotNil(t, e)
			assert.Equal(t, c.code, e.code)
			assert.Contains(t, e.msg, c.msg)
			assert.NotContains(t, e.msg, brTestCreds.SecretAccessKey)
			assert.NotContains(t, e.Error(), brTestCreds.SecretAccessKey)
		})
	}

	t.Run("clock window", func(t *testing.T) {
		for _, d := range []time.Duration{-15 * time.Minute, 15 * time.Minute, 0} {
			r := brServerSide(t, brSign(t, http.MethodPost, targets[0], body, hdr, brTestCreds, "us-east-1", now.Add(d)), body)
			// Keep the scope day consistent with X-Amz-Date; only the clock differs.
			assert.Nil(t, v.verify(r, body), "skew %v", d)
		}
		for _, d := range []time.Duration{-15*time.Minute - time.Second, 15*time.Minute + time.Second} {
			r := brServerSide(t, brSign(t, http.MethodPost, targets[0], body, hdr, brTestCreds, "us-east-1", now.Add(d)), body)
			e := v.verify(r, body)
			require.NotNil(t, e, "skew %v", d)
			assert.Equal(t, "InvalidSignatureException", e.code)
			assert.Regexp(t, `^Signature (expired|not yet current): \d{8}T\d{6}Z is (now earlier|still later) than \d{8}T\d{6}Z \(\d{8}T\d{6}Z [-+] 15 min\.\)$`, e.msg)
		}
	})

	t.Run("declared payload hash", func(t *testing.T) {
		sum := sha256.Sum256(body)
		h := hdr.Clone()
		h.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		r := brServerSide(t, brSign(t, http.MethodPost, targets[0], body, h, brTestCreds, "us-east-1", now), body)
		assert.Nil(t, v.verify(r, body))
	})
}

func BenchmarkBedrockSigV4Verify(b *testing.B) {
	v := newBrVerifier(brTestCreds)
	body := []byte(`{"messages":[{"role":"user","content":[{"text":"hello there world"}]}],"inferenceConfig":{"maxTokens":16}}`)
	hdr := http.Header{"Content-Type": {"application/json"}, "Amz-Sdk-Invocation-Id": {"0b5f6d4e-1f0a-4c55-9e53-1d2f3a4b5c6d"}, "Amz-Sdk-Request": {"attempt=1; max=3"}}
	r := brServerSide(b, brSign(b, http.MethodPost, "http://127.0.0.1:8080/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", body, hdr, brTestCreds, "us-east-1", time.Now()), body)
	for _, bc := range []struct {
		name string
		path brSigPath
	}{{"fast", brSigAuto}, {"sdk-signer", brSigSDK}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if e := v.check(r, body, bc.path); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}

// brSameVerdict asserts that the fast path and the SDK signer agree on r.
func brSameVerdict(t testing.TB, v *brVerifier, r *http.Request, body []byte) *brError {
	t.Helper()
	auto := v.check(r, body, brSigAuto)
	sdk := v.check(r, body, brSigSDK)
	if (auto == nil) != (sdk == nil) || auto != nil && (auto.code != sdk.code || auto.msg != sdk.msg) {
		t.Fatalf("fast path and SDK signer disagree on %s %s host %q headers %q: fast %v, sdk %v",
			r.Method, r.URL.EscapedPath(), r.Host, r.Header, auto, sdk)
	}
	return auto
}

func TestBedrockSigV4FastMatchesSDK(t *testing.T) {
	v := newBrVerifier(brTestCreds)
	now := time.Now()
	body := []byte(`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`)
	hdr := http.Header{
		"Content-Type":          {"application/json"},
		"Amz-Sdk-Invocation-Id": {"0b5f6d4e-1f0a-4c55-9e53-1d2f3a4b5c6d"},
		"Amz-Sdk-Request":       {" attempt=1;   max=3 "},
		"X-Amzn-Bedrock-Trace":  {"ENABLED", "\tDISABLED  x\t"},
	}
	for _, target := range []string{
		"http://127.0.0.1:8080/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
		"http://[::1]:8080/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x%3A0/invoke-with-response-stream",
		"http://h/model/sp%20ace%21%2A/converse",
		"http://h/model/m/converse?with=query",
	} {
		r := brServerSide(t, brSign(t, http.MethodPost, target, body, hdr, brTestCreds, "eu-west-3", now), body)
		assert.Nil(t, brSameVerdict(t, v, r, body), target)

		// Tampering is caught by both, alike.
		r.Header.Set("Amz-Sdk-Request", "attempt=2; max=3")
		require.NotNil(t, brSameVerdict(t, v, r, body))
	}

	// Upper case in SignedHeaders is for the signer to judge, not the fast path.
	r0 := brServerSide(t, brSign(t, http.MethodPost, "http://h/model/m/converse", body, hdr, brTestCreds, "us-east-1", now), body)
	r0.Header.Set("Authorization", strings.Replace(r0.Header.Get("Authorization"), "content-type", "Content-Type", 1))
	brSameVerdict(t, v, r0, body)

	// The SDK's own requests take the fast path.
	r := brServerSide(t, brSign(t, http.MethodPost, "http://h/model/m/converse", body, hdr, brTestCreds, "us-east-1", now), body)
	a, e := parseBrAuth(r.Header.Get("Authorization"))
	require.Nil(t, e)
	sum := sha256.Sum256(body)
	ok, handled := v.fastVerify(r, &a, r.Header.Get("X-Amz-Date"), hex.EncodeToString(sum[:]))
	assert.True(t, handled)
	assert.True(t, ok)
}

// FuzzBedrockSigV4 signs arbitrary requests with the SDK signer, optionally
// tampers with them, and requires the fast path and the SDK signer to
// reach the same verdict.
func FuzzBedrockSigV4(f *testing.F) {
	f.Add("model/anthropic.claude-3-haiku-20240307-v1:0/converse", "127.0.0.1:8080", "X-Amzn-Bedrock-Trace", "ENABLED", "a  b", []byte(`{}`), uint8(0), "")
	f.Add("model/arn:aws:bedrock:us-east-1:1:inference-profile/us.x/invoke", "localhost", "Accept", " */* ", "", []byte{}, uint8(1), "")
	f.Add("m/ü%/~", "h:80", "X-A", "\t", "\x00", []byte("x"), uint8(4), "")
	f.Add("m", "h", "", "", "", []byte("x"), uint8(0), "content-length;content-type;host;x-amz-date")
	f.Add("m", "h", "", "", "", []byte("x"), uint8(0), "host;x-amz-date;content-type")
	v := newBrVerifier(brTestCreds)
	f.Fuzz(func(t *testing.T, path, host, name, val1, val2 string, body []byte, tamper uint8, signed string) {
		if host == "" || strings.ContainsAny(name, "\r\n") {
			return
		}
		r := &http.Request{
			Method: http.MethodPost, URL: &url.URL{Path: "/" + path}, Host: host,
			Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: int64(len(body)),
		}
		if name != "" {
			r.Header[textproto.CanonicalMIMEHeaderKey(name)] = []string{val1, val2}
		}
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: brTestCreds.AccessKeyID, SecretAccessKey: brTestCreds.SecretAccessKey},
			r, hex.EncodeToString(sum[:]), "bedrock", "us-east-1", time.Now()); err != nil {
			return
		}
		switch tamper % 6 {
		case 1:
			r.Header.Set("Content-Type", "text/plain")
		case 2:
			body = append(body, '!')
		case 3:
			r.Host += "x"
		case 4:
			r.Header.Set("Content-Type", "  application/json ")
		case 5:
			r.URL.Path += "x"
		}
		if signed != "" && !strings.ContainsAny(signed, ", ") {
			a := r.Header.Get("Authorization")
			i, j := strings.Index(a, "SignedHeaders="), strings.Index(a, ", Signature=")
			r.Header.Set("Authorization", a[:i+len("SignedHeaders=")]+signed+a[j:])
		}
		brSameVerdict(t, v, r, body)
	})
}
