package pricerefresh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// FetchError is a price API that could not be read: unreachable, an
// HTTP error status, a response over the size cap, or a body that is not
// the JSON the API documents. It names the URL, so the maintainer can
// open it by hand; the CLI gives it its own exit code (not a usage error,
// not a failed check).
type FetchError struct {
	URL string
	Err error
}

func (e *FetchError) Error() string { return e.URL + ": " + e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// Defaults of a price fetcher.
const (
	// DefaultResponseCap bounds one response body: the largest AWS
	// offer files are hundreds of MB, and a body past the cap is an error,
	// not a silently truncated price list.
	DefaultResponseCap = 1 << 30
	// DefaultTimeout bounds one request, body included.
	DefaultTimeout = 10 * time.Minute
	priceUserAgent = "mcbench-pricing-refresh (+https://github.com/mcbench/mcbench)"
)

// priceFetcher GETs public price API documents: no credentials, a
// User-Agent, a time limit per request and a cap on each body.
type priceFetcher struct {
	client   *http.Client
	maxBytes int64
	progress io.Writer
}

// get streams the body at u to fn. Errors, fn's included, come back as a
// *FetchError naming u.
func (f *priceFetcher) get(ctx context.Context, u string, fn func(io.Reader) error) error {
	fail := func(err error) error { return &FetchError{URL: u, Err: err} }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("User-Agent", priceUserAgent)
	req.Header.Set("Accept", "application/json")
	fmt.Fprintf(f.progress, "pricing refresh: GET %s\n", u)
	resp, err := f.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail(fmt.Errorf("unreachable: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		msg := strings.Join(strings.Fields(string(snippet)), " ")
		if msg != "" {
			msg = ": " + msg
		}
		return fail(fmt.Errorf("HTTP %s%s", resp.Status, msg))
	}
	cr := &cappedReader{r: resp.Body, left: f.maxBytes, progress: f.progress}
	if err := fn(cr); err != nil {
		if cr.over {
			return fail(fmt.Errorf("response larger than the %d-byte cap", f.maxBytes))
		}
		return fail(err)
	}
	fmt.Fprintf(f.progress, "pricing refresh:   read %.1f MB\n", float64(cr.read)/1e6)
	return nil
}

// cappedReader reads at most left bytes and then fails, so a body over the
// cap is an error rather than a JSON document cut short.
type cappedReader struct {
	r    io.Reader
	left int64
	over bool
	// progress gets a line every progressStep bytes: AWS offer files take
	// a while, and a silent minute looks like a hang.
	progress io.Writer
	read     int64
}

const progressStep = 64 << 20

var errOverCap = errors.New("response over the size cap")

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a body of exactly the cap from a longer one.
		var b [1]byte
		if n, _ := c.r.Read(b[:]); n > 0 {
			c.over = true
			return 0, errOverCap
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.progress != nil && (c.read+int64(n))/progressStep > c.read/progressStep {
		fmt.Fprintf(c.progress, "pricing refresh:   %d MB so far\n", (c.read+int64(n))>>20)
	}
	c.read += int64(n)
	return n, err
}

// officialURL rewrites u, fetched from endpoint, onto the official API
// base: the tables cite the first-party API, and a mirror or a test
// server answers the same query. Reports whether endpoint was the
// official one.
func officialURL(u, endpoint, official string) (string, bool) {
	if strings.TrimRight(endpoint, "/") == strings.TrimRight(official, "/") {
		return u, true
	}
	eu, err1 := url.Parse(endpoint)
	pu, err2 := url.Parse(u)
	ou, err3 := url.Parse(official)
	if err1 != nil || err2 != nil || err3 != nil {
		return u, false
	}
	rel := strings.TrimPrefix(pu.Path, strings.TrimRight(eu.Path, "/"))
	out := *ou
	out.Path = strings.TrimRight(ou.Path, "/") + rel
	out.RawPath = ""
	out.RawQuery = pu.RawQuery
	return out.String(), false
}
