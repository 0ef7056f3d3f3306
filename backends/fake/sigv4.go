package fake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 verification of Bedrock requests, the way AWS's front door does it:
// parse the Authorization header, check the credential scope and the clock,
// then recompute the signature over the request as received and compare in
// constant time.
//
// The reference is the SDK's own signer (aws/signer/v4), run over a
// rebuilt copy of the request: it cannot disagree with the client about
// escaping (the modelId path is escaped again, %3A → %253A) or header
// folding. It costs ~55 allocations a request, though, a large share of a
// loopback round trip; so requests shaped as the SDK sends them (no query,
// sorted SignedHeaders) take a fast path that builds the canonical request
// in a pooled buffer and signs with a cached key per (day, region) and
// pooled HMACs. TestBedrockSigV4FastMatchesSDK and FuzzBedrockSigV4 hold
// the fast path to the signer's answer; anything else goes to the signer.
//
// Errors follow what AWS returns (and the SDK surfaces as
// smithy.GenericAPIError codes, since they are not modelled):
//
//	no Authorization                 → 403 MissingAuthenticationTokenException
//	malformed Authorization/X-Amz-Date → 400 IncompleteSignatureException
//	unknown access key, session token → 403 UnrecognizedClientException
//	bad scope/signature, clock skew    → 403 InvalidSignatureException
//
// Nothing here logs, and no error message contains the secret or the
// signature the fake computed.

const (
	brSigAlgorithm = "AWS4-HMAC-SHA256"
	brSigService   = "bedrock"
	brAmzDateFmt   = "20060102T150405Z"
	// brMaxSkew is how far X-Amz-Date may be from the server's clock, as AWS allows.
	brMaxSkew = 15 * time.Minute
)

// brVerifier checks SigV4 signatures against one set of credentials.
type brVerifier struct {
	akid   []byte
	creds  aws.Credentials
	signer *v4.Signer
	keys   brKeyCache
	now    func() time.Time
}

func newBrVerifier(c Credentials) *brVerifier {
	return &brVerifier{
		akid:   []byte(c.AccessKeyID),
		creds:  aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey},
		signer: v4.NewSigner(),
		now:    time.Now,
	}
}

// brAuth is a parsed Authorization header.
type brAuth struct {
	akid, date, region, service, term string
	signedHeaders                     string
	signature                         string
}

var (
	errBrMissingAuth = &brError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token", brNSCoral}
	errBrUnknownKey  = &brError{http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.", brNSCoral}
	errBrBadSig      = &brError{http.StatusForbidden, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", brNSCoral}
)

func brIncomplete(msg string) *brError {
	return &brError{http.StatusBadRequest, "IncompleteSignatureException", msg, brNSCoral}
}

func brInvalidSig(msg string) *brError {
	return &brError{http.StatusForbidden, "InvalidSignatureException", msg, brNSCoral}
}

// parseBrAuth splits "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// SignedHeaders=a;b, Signature=hex" (spaces after the commas are optional).
func parseBrAuth(h string) (brAuth, *brError) {
	var a brAuth
	rest, ok := strings.CutPrefix(h, brSigAlgorithm+" ")
	if !ok {
		if strings.HasPrefix(h, "Bearer ") {
			// A Bedrock API key; the fake only knows SigV4 credentials.
			return a, errBrUnknownKey
		}
		return a, brIncomplete("Authorization header requires the " + brSigAlgorithm + " algorithm.")
	}
	var cred string
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	if cred == "" || a.signedHeaders == "" || a.signature == "" {
		return a, brIncomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	parts := [5]string{}
	for i := range parts {
		if i < 4 {
			var ok bool
			parts[i], cred, ok = strings.Cut(cred, "/")
			if !ok {
				return a, brIncomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term.")
			}
		} else {
			parts[i] = cred
		}
	}
	if strings.Contains(parts[4], "/") {
		return a, brIncomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term.")
	}
	a.akid, a.date, a.region, a.service, a.term = parts[0], parts[1], parts[2], parts[3], parts[4]
	if len(a.signature) != 64 || !brIsLowerHex(a.signature) {
		return a, brInvalidSig("The request signature must be 64 lower-case hexadecimal digits.")
	}
	return a, nil
}

func brIsLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// verify checks the request's SigV4 signature; body is the whole request
// body (already read). It returns nil if the request is authentic.
func (v *brVerifier) verify(r *http.Request, body []byte) *brError {
	return v.check(r, body, brSigAuto)
}

// brSigPath selects how check recomputes the signature (tests compare them).
type brSigPath uint8

const (
	brSigAuto brSigPath = iota // the fast path where it applies, else the SDK signer
	brSigSDK                   // always the SDK signer
)

func (v *brVerifier) check(r *http.Request, body []byte, path brSigPath) *brError {
	hv := r.Header["Authorization"]
	if len(hv) == 0 || hv[0] == "" {
		return errBrMissingAuth
	}
	a, e := parseBrAuth(hv[0])
	if e != nil {
		return e
	}
	if subtle.ConstantTimeCompare([]byte(a.akid), v.akid) != 1 {
		return errBrUnknownKey
	}
	if len(r.Header["X-Amz-Security-Token"]) > 0 {
		// The fake's credentials are long-term keys; a session token cannot match.
		return errBrUnknownKey
	}
	if a.service != brSigService {
		return brInvalidSig("Credential should be scoped to correct service: '" + brSigService + "'. ")
	}
	if a.term != "aws4_request" {
		return brInvalidSig("Credential should be scoped with a valid terminator: 'aws4_request', not '" + a.term + "'. ")
	}
	if a.region == "" {
		return brInvalidSig("Credential should be scoped to a valid region. ")
	}
	dv := r.Header["X-Amz-Date"]
	if len(dv) == 0 {
		return brIncomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	// Exactly the basic format: the fast path signs the header's text, the
	// SDK signer the parsed time formatted back, so they must be the same.
	t, err := time.Parse(brAmzDateFmt, dv[0])
	if err != nil || len(dv[0]) != len(brAmzDateFmt) {
		return brIncomplete("X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
	}
	if a.date != dv[0][:8] {
		return brInvalidSig("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" + a.date + "' != '" + dv[0][:8] + "', from '" + dv[0] + "'.")
	}
	now := v.now().UTC()
	if t.Before(now.Add(-brMaxSkew)) {
		return brInvalidSig("Signature expired: " + dv[0] + " is now earlier than " + now.Add(-brMaxSkew).Format(brAmzDateFmt) + " (" + now.Format(brAmzDateFmt) + " - 15 min.)")
	}
	if t.After(now.Add(brMaxSkew)) {
		return brInvalidSig("Signature not yet current: " + dv[0] + " is still later than " + now.Add(brMaxSkew).Format(brAmzDateFmt) + " (" + now.Format(brAmzDateFmt) + " + 15 min.)")
	}

	// The payload hash: what the client declared if it sent one (it must
	// then match the body), else the hash of the body as received.
	sum := sha256.Sum256(body)
	var hashBuf [64]byte
	hex.Encode(hashBuf[:], sum[:])
	payloadHash := string(hashBuf[:])
	if ph := r.Header["X-Amz-Content-Sha256"]; len(ph) > 0 && ph[0] != "UNSIGNED-PAYLOAD" {
		if ph[0] != payloadHash {
			return brInvalidSig("The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	} else if len(ph) > 0 {
		payloadHash = ph[0]
	}

	if path == brSigAuto {
		if ok, handled := v.fastVerify(r, &a, dv[0], payloadHash); handled {
			if !ok {
				return errBrBadSig
			}
			return nil
		}
	}
	return v.sdkVerify(r, &a, t, payloadHash)
}

// sdkVerify recomputes the signature with the SDK's signer over a rebuilt
// request: same method, escaped path, query and host, and only the headers
// the client named in SignedHeaders (Go keeps Host and Content-Length out
// of the header map; the signer takes them from Host and ContentLength).
// It is the reference the fast path is tested against, and the path for
// requests the fast path leaves alone.
func (v *brVerifier) sdkVerify(r *http.Request, a *brAuth, t time.Time, payloadHash string) *brError {
	nh := strings.Count(a.signedHeaders, ";") + 1
	req := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: make(http.Header, nh),
	}
	var sawHost, sawDate bool
	for sh := a.signedHeaders; sh != ""; {
		var name string
		name, sh, _ = strings.Cut(sh, ";")
		switch name {
		case "host":
			sawHost = true
			continue
		case "content-length":
			req.ContentLength = r.ContentLength
			continue
		case "x-amz-date":
			sawDate = true
		}
		key := brCanonicalKey(name)
		vals, ok := r.Header[key]
		if !ok {
			return errBrBadSig // a signed header is missing: the signature cannot match
		}
		// Canonical keys, so the X-Amz-Date the signer sets replaces this one.
		req.Header[key] = vals
	}
	if !sawHost || !sawDate {
		return errBrHostDateUnsigned
	}
	if err := v.signer.SignHTTP(context.Background(), v.creds, req, payloadHash, brSigService, a.region, t); err != nil {
		return errBrBadSig
	}
	got := req.Header.Get("Authorization")
	i := strings.LastIndex(got, "Signature=")
	if i < 0 || subtle.ConstantTimeCompare([]byte(got[i+len("Signature="):]), []byte(a.signature)) != 1 {
		return errBrBadSig
	}
	return nil
}

var errBrHostDateUnsigned = brInvalidSig("'Host' and 'X-Amz-Date' must be SignedHeaders in the AWS Authorization.")

// fastVerify computes the signature itself for the requests the SDK sends
// (no query string, SignedHeaders sorted and free of headers the signer
// ignores), appending into a pooled buffer with a cached signing key: a
// fraction of the signer's cost, which builds maps and joined strings for
// every request. handled is false when the request is not of that shape;
// the SDK signer then decides. The two are held equal by
// TestBedrockSigV4FastMatchesSDK and FuzzBedrockSigV4.
func (v *brVerifier) fastVerify(r *http.Request, a *brAuth, amzDate, payloadHash string) (ok, handled bool) {
	if r.URL.RawQuery != "" {
		return false, false
	}
	bp := brGetBuf()
	b := (*bp)[:0]
	defer func() { brPutBuf(bp, b) }()

	// Canonical request: method, URI (the escaped path escaped again, as
	// the SDK does for every service but S3), query (none), headers,
	// signed header list, payload hash.
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = brAppendURIEscaped(b, r.URL.EscapedPath())
	b = append(b, '\n', '\n')
	prev := ""
	var sawHost, sawDate bool
	for sh := a.signedHeaders; sh != ""; {
		var name string
		name, sh, _ = strings.Cut(sh, ";")
		if name <= prev || brIgnoredHeader(name) || strings.ContainsFunc(name, func(c rune) bool { return 'A' <= c && c <= 'Z' }) {
			return false, false // unsorted, repeated, ignored or not lower-case: let the signer judge
		}
		prev = name
		b = append(b, name...)
		b = append(b, ':')
		switch name {
		case "host":
			sawHost = true
			b = brAppendStripSpaces(b, r.Host)
		case "content-length":
			if r.ContentLength <= 0 {
				return false, false
			}
			b = strconv.AppendInt(b, r.ContentLength, 10)
		default:
			if name == "x-amz-date" {
				sawDate = true
			}
			vals, ok := r.Header[brCanonicalKey(name)]
			if !ok {
				return false, true
			}
			for j, val := range vals {
				if j > 0 {
					b = append(b, ',')
				}
				start := len(b)
				b = brAppendStripSpaces(b, val)
				trimmed := bytes.TrimSpace(b[start:])
				b = b[:start+copy(b[start:], trimmed)]
			}
		}
		b = append(b, '\n')
	}
	if !sawHost || !sawDate {
		return false, false
	}
	b = append(b, '\n')
	b = append(b, a.signedHeaders...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	crHash := sha256.Sum256(b)

	// String to sign, then its HMAC under the day's signing key.
	b = append(b[:0], brSigAlgorithm+"\n"...)
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, a.date...)
	b = append(b, '/')
	b = append(b, a.region...)
	b = append(b, "/"+brSigService+"/aws4_request\n"...)
	b = hex.AppendEncode(b, crHash[:])
	k := v.keys.get(v.creds.SecretAccessKey, a.date, a.region)
	h := k.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(b)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	k.macs.Put(h)
	var sig [2 * sha256.Size]byte
	hex.Encode(sig[:], sum[:])
	return subtle.ConstantTimeCompare(sig[:], []byte(a.signature)) == 1, true
}

// brAppendURIEscaped appends p with every byte but the unreserved ones and
// '/' percent-encoded (upper-case hex), as smithy's httpbinding.EscapePath.
func brAppendURIEscaped(b []byte, p string) []byte {
	const hexd = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			b = append(b, c)
		} else {
			b = append(b, '%', hexd[c>>4], hexd[c&15])
		}
	}
	return b
}

// brAppendStripSpaces appends s without leading and trailing spaces and
// with runs of spaces folded to one, as the SDK's StripExcessSpaces.
func brAppendStripSpaces(b []byte, s string) []byte {
	i, j := 0, len(s)
	for j > 0 && s[j-1] == ' ' {
		j--
	}
	for i < j && s[i] == ' ' {
		i++
	}
	space := false
	for ; i < j; i++ {
		if s[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b = append(b, s[i])
	}
	return b
}

// brIgnoredHeader reports the headers the SDK signer never signs.
func brIgnoredHeader(name string) bool {
	switch name {
	case "authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding":
		return true
	}
	return false
}

// brCanonicalKeys maps the lower-case names clients sign to Go's header
// keys, so the common ones cost no allocation.
var brCanonicalKeys = map[string]string{}

func init() {
	for _, k := range []string{"Content-Type", "Content-Encoding", "Accept", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request",
		"X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token", "X-Amz-User-Agent", "X-Amz-Target",
		"X-Amzn-Bedrock-Accept", "X-Amzn-Bedrock-Trace", "X-Amzn-Bedrock-Guardrailidentifier", "X-Amzn-Bedrock-Guardrailversion",
		"X-Amzn-Bedrock-Performanceconfig-Latency", "X-Amzn-Bedrock-Service-Tier", "X-Amzn-Bedrock-Request-Metadata", brOutputHeader} {
		brCanonicalKeys[strings.ToLower(k)] = k
	}
}

func brCanonicalKey(lower string) string {
	if k, ok := brCanonicalKeys[lower]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(lower)
}

// brKeyCache holds derived signing keys by (day, region), each with a pool
// of HMACs keyed with it. Keys change once a day, so the cache is small;
// it is reset if a client cycles through many regions.
type brKeyCache struct {
	mu sync.RWMutex
	m  map[brKeyScope]*brSigningKey
}

type brKeyScope struct{ date, region string }

type brSigningKey struct{ macs sync.Pool }

func (c *brKeyCache) get(secret, date, region string) *brSigningKey {
	sc := brKeyScope{date, region}
	c.mu.RLock()
	k := c.m[sc]
	c.mu.RUnlock()
	if k != nil {
		return k
	}
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+secret), date), region), brSigService), "aws4_request")
	k = &brSigningKey{}
	k.macs.New = func() any { return hmac.New(sha256.New, key) }
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 64 {
		c.m = make(map[brKeyScope]*brSigningKey)
	}
	c.m[brKeyScope{strings.Clone(date), strings.Clone(region)}] = k
	c.mu.Unlock()
	return k
}
