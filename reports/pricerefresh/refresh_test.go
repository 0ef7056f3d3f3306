package pricerefresh

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/reports"
)

// refreshFixtures holds small answers of the two price APIs in their
// documented shapes, a manifest of which request each answers, and a set
// of tables to refresh from them.
const refreshFixtures = "testdata/pricing-refresh"

// priceAPIServer is one local server answering both APIs from the
// fixtures. override, keyed by a fixture file name, replaces its answer.
type priceAPIServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	override map[string]http.HandlerFunc
}

func newPriceAPIServer(t *testing.T, override map[string]http.HandlerFunc) *priceAPIServer {
	t.Helper()
	var manifest struct {
		Azure map[string]string `json:"azure"`
		AWS   map[string]string `json:"aws"`
	}
	data, err := os.ReadFile(filepath.Join(refreshFixtures, "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &manifest))
	s := &priceAPIServer{override: override}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		var file string
		if r.URL.Path == "/api/retail/prices" {
			q := r.URL.Query()
			if q.Get("api-version") != "2023-01-01-preview" {
				http.Error(w, `{"Error":{"Code":"InvalidApiVersion"}}`, http.StatusBadRequest)
				return
			}
			key := q.Get("$filter")
			if skip := q.Get("$skip"); skip != "" {
				key += "|" + skip
			}
			file = manifest.Azure[key]
		} else {
			file = manifest.AWS[r.URL.Path]
		}
		if file == "" {
			http.Error(w, "no fixture for "+r.URL.String(), http.StatusNotFound)
			return
		}
		if h := s.override[file]; h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		http.ServeFile(w, r, filepath.Join(refreshFixtures, file))
	}))
	t.Cleanup(s.Close)
	return s
}

// copyFixtureTables copies the fixture tables to a temporary directory.
func copyFixtureTables(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"tokens.csv", "provisioned.csv", "egress.csv", "storage.csv", "exit.csv"} {
		data, err := os.ReadFile(filepath.Join(refreshFixtures, "tables", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
	return dir
}

func refreshOptions(srv *priceAPIServer, dir string) Options {
	return Options{Dir: dir, Now: time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC),
		AzureEndpoint: srv.URL + "/api/retail/prices", AWSEndpoint: srv.URL, Client: srv.Client()}
}

const (
	foundryEastUS2 = "https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&$filter=serviceName%20eq%20'Foundry%20Models'%20and%20armRegionName%20eq%20'eastus2'%20and%20type%20eq%20'Consumption'"
	cogsvcSweden   = "https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&$filter=serviceName%20eq%20'Cognitive%20Services'%20and%20productName%20eq%20'Azure%20OpenAI'%20and%20armRegionName%20eq%20'swedencentral'%20and%20type%20eq%20'Consumption'"
	bedrockOffer   = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonBedrock/20251120000000/us-east-1/index.json"
	transferOffer  = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AWSDataTransfer/20251120000000/us-east-1/index.json"
)

func TestRefresh(t *testing.T) {
	srv := newPriceAPIServer(t, nil)
	dir := copyFixtureTables(t)
	before := readTables(t, dir)
	res, err := Refresh(context.Background(), refreshOptions(srv, dir))
	require.NoError(t, err)
	assert.Equal(t, 21, res.Rows)

	updated := map[string]RowUpdate{}
	for _, u := range res.Updated {
		updated[filepath.Base(u.File)+":"+itoa(u.Line)] = u
	}
	assert.Len(t, res.Updated, 14)

	// Global gpt-4o: the note's version (2024-11-20) picks the 1120 meters
	// of the second page (read through NextPageLink) over the 0513 ones of
	// the first, and 1K-token prices become per 1M.
	u := updated["tokens.csv:2"]
	assert.Empty(t, u.Changes, "2.50 and 10.00 per 1M are 0.0025 and 0.01 per 1K")
	assert.Equal(t, foundryEastUS2, u.SourceURL)
	// The data-zone row reads the Data Zone meters in swedencentral, not the
	// Regional ones, and falls back to the Cognitive Services answer since
	// Foundry Models has none there.
	assert.Equal(t, cogsvcSweden, updated["tokens.csv:3"].SourceURL)
	assert.Empty(t, updated["tokens.csv:3"].Changes)
	assert.Contains(t, updated["tokens.csv:3"].NewText, "gpt 4o 1120 Inp DZone Tokens")
	// gpt-4o-mini is priced per 1M in the answer: unchanged.
	assert.Empty(t, updated["tokens.csv:4"].Changes)
	// gpt-4.1: a changed figure, and the cached-input column filled too.
	assert.Equal(t, []ValueChange{{"input_usd_per_mtok", "2.00", "2.2"}}, updated["tokens.csv:5"].Changes)
	// Bedrock: in-region on-demand (not batch, not cross-region), and the
	// us. profile from the cross-region products.
	assert.Equal(t, bedrockOffer, updated["tokens.csv:7"].SourceURL)
	assert.Empty(t, updated["tokens.csv:7"].Changes)
	assert.Empty(t, updated["tokens.csv:8"].Changes)
	assert.Contains(t, updated["tokens.csv:8"].NewText, "USE1-NovaPro-cross-region-input-tokens")
	// Tiers: API bounds in TiB (10,240 GB) meet the tables' decimal TB.
	for _, l := range []string{"3", "4", "5", "6"} {
		assert.Equal(t, transferOffer, updated["egress.csv:"+l].SourceURL, "egress line %s", l)
		assert.Empty(t, updated["egress.csv:"+l].Changes, "egress line %s", l)
	}
	assert.Contains(t, updated["egress.csv:9"].NewText, "Rtn Preference: MGN", "the Microsoft-network route, not Routing Preference: Internet")
	assert.Equal(t, []ValueChange{{"usd_per_gb_month", "0.018", "0.0184"}}, updated["storage.csv:3"].Changes)

	unmatched := map[string]string{}
	for _, s := range res.Unmatched {
		unmatched[filepath.Base(s.File)+":"+itoa(s.Line)] = s.Reason
	}
	assert.Len(t, unmatched, 7)
	assert.Contains(t, unmatched["tokens.csv:6"], "no global token meter for gpt-5")
	assert.Contains(t, unmatched["tokens.csv:9"], `no in-region on-demand token product with model "Llama 3.3 70B Instruct"`)
	assert.Contains(t, unmatched["tokens.csv:9"], "models there: Nova Lite, Nova Pro")
	assert.Contains(t, unmatched["egress.csv:2"], "free allowance", "AWS's free 100 GB is not turned into a charge")
	assert.Contains(t, unmatched["egress.csv:7"], "no refresh rule for the inter-region path")
	assert.Contains(t, unmatched["egress.csv:10"], "no one API tier holds 10000–∞ GB")
	assert.Contains(t, unmatched["provisioned.csv:2"], "provisioned capacity")
	assert.Contains(t, unmatched["exit.csv:2"], "not in a price API")

	// Nothing is written until Write.
	assert.Equal(t, before, readTables(t, dir))
	written, err := res.Write()
	require.NoError(t, err)
	assert.Len(t, written, 3, "tokens, egress and storage; provisioned and exit unchanged")
	after := readTables(t, dir)
	assert.Equal(t, before["exit.csv"], after["exit.csv"])

	// Only the refreshed rows' lines changed; unmatched rows and the
	// header are byte for byte as before.
	for _, name := range []string{"tokens.csv", "egress.csv", "storage.csv"} {
		b, a := strings.Split(before[name], "\n"), strings.Split(after[name], "\n")
		require.Len(t, a, len(b), name)
		for i := range b {
			_, refreshed := updated[name+":"+itoa(i+1)]
			if !refreshed {
				assert.Equal(t, b[i], a[i], "%s:%d", name, i+1)
			}
		}
	}
	tokens := strings.Split(after["tokens.csv"], "\n")
	assert.Equal(t, `azure,gpt-4.1,*,2.2,0.50,8.00,`+foundryEastUS2+`,2026-12-06,2026-07-24,no,"Global deployment; retrieved from the Azure Retail Prices API (eastus2: gpt 4.1 0414 Inp glbl 1M Tokens, gpt 4.1 0414 cached Inp glbl 1M Tokens, gpt 4.1 0414 Outp glbl 1M Tokens) via `+srv.URL+`/api/retail/prices"`,
		tokens[4])

	// The rewritten tables load, cite first-party URLs, and the refreshed
	// rows are verified.
	p, err := reports.LoadPricingDir(dir)
	require.NoError(t, err)
	probs := p.Check(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), 90*24*time.Hour)
	assert.Len(t, probs, 7, "only the unmatched rows stay unverified")
	for _, r := range p.Rows() {
		if r.Verified() {
			assert.NotContains(t, r.Note, unverifiedNote, "%s:%d", r.File, r.Line)
		}
	}

	// A second refresh replaces its own note clause instead of adding one.
	res2, err := Refresh(context.Background(), refreshOptions(srv, dir))
	require.NoError(t, err)
	_, err = res2.Write()
	require.NoError(t, err)
	assert.Equal(t, after["tokens.csv"], readTables(t, dir)["tokens.csv"])

	// No request carried credentials; every one named the tool.
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, r := range srv.requests {
		assert.Empty(t, r.Header.Get("Authorization"))
		assert.Contains(t, r.Header.Get("User-Agent"), "mcbench")
	}
}

func TestRefreshAPIErrors(t *testing.T) {
	cases := map[string]struct {
		file    string
		handler http.HandlerFunc
		url     string
		msg     string
	}{
		"azure 500": {"azure-cogsvc-eastus2.json", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "upstream failure", http.StatusInternalServerError)
		}, "/api/retail/prices?api-version=2023-01-01-preview&$filter=serviceName%20eq%20'Cognitive%20Services'", "HTTP 500 Internal Server Error: upstream failure"},
		"azure not JSON": {"azure-storage-eastus.json", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>maintenance</html>"))
		}, "skuName%20eq%20'Hot%20LRS'", "not a Retail Prices API answer"},
		"aws offer cut short": {"aws-s3-us-east-1.json", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"formatVersion":"v1.0","products":{"ABC":{"sku":"ABC","attributes":{}}`))
		}, "/offers/v1.0/aws/AmazonS3/20251120000000/us-east-1/index.json", "not an AWS offer file"},
		"aws offer without terms": {"aws-datatransfer-us-east-1.json", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"formatVersion":"v1.0","products":{}}`))
		}, "/AWSDataTransfer/20251120000000/us-east-1/index.json", "no products or no terms"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srv := newPriceAPIServer(t, map[string]http.HandlerFunc{c.file: c.handler})
			dir := copyFixtureTables(t)
			before := readTables(t, dir)
			_, err := Refresh(context.Background(), refreshOptions(srv, dir))
			var fe *FetchError
			require.True(t, errors.As(err, &fe), "%v", err)
			assert.Contains(t, fe.URL, srv.URL)
			assert.Contains(t, fe.URL, c.url)
			assert.Contains(t, err.Error(), c.msg)
			assert.Equal(t, before, readTables(t, dir))
		})
	}
}

func TestRefreshResponseCap(t *testing.T) {
	srv := newPriceAPIServer(t, nil)
	opt := refreshOptions(srv, copyFixtureTables(t))
	opt.MaxBytes = 1000 // the first Azure page is larger
	_, err := Refresh(context.Background(), opt)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "response larger than the 1000-byte cap")
}

func TestRefreshNextPageLinkStaysOnTheAPI(t *testing.T) {
	srv := newPriceAPIServer(t, map[string]http.HandlerFunc{"azure-foundry-eastus2-1.json": func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"Items":[],"NextPageLink":"https://example.com/steal?x=1"}`))
	}})
	_, err := Refresh(context.Background(), refreshOptions(srv, copyFixtureTables(t)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `NextPageLink "https://example.com/steal?x=1" leaves the API`)
}

func TestParseAzureTokenMeter(t *testing.T) {
	for name, want := range map[string]azureTokenMeter{
		"gpt-4o-0806-Inp-glbl":                 {Model: "gpt 4o", Version: "0806", Deployment: azureGlobal},
		"gpt 4o 1120 Outp glbl Tokens":         {Model: "gpt 4o", Version: "1120", Output: true, Deployment: azureGlobal},
		"gpt 4o 0513 Input global Tokens":      {Model: "gpt 4o", Version: "0513", Deployment: azureGlobal},
		"GPT 5 Inpt Glbl":                      {Model: "gpt 5", Deployment: azureGlobal},
		"gpt 4.1 nano cached Inp glbl":         {Model: "gpt 4.1 nano", Cached: true, Deployment: azureGlobal},
		"gpt 4.5 0227 cached Inp DZone":        {Model: "gpt 4.5", Version: "0227", Cached: true, Deployment: azureDataZone},
		"gpt-4o-mini-0718-Outp-glbl 1M Tokens": {Model: "gpt 4o mini", Version: "0718", Output: true, Deployment: azureGlobal},
		"gpt-4o-2024-11-20-Input-Data-Zone":    {Model: "gpt 4o", Version: "1120", Deployment: azureDataZone},
		"gpt-35-turbo-4k-Input-regional":       {Model: "gpt 35 turbo 4k", Deployment: azureRegional},
	} {
		got, ok := parseAzureTokenMeter(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, got, name)
	}
	for _, name := range []string{"Standard Data Transfer Out", "Hot LRS Data Stored", "gpt 4o Inp", "Inp glbl", "gpt-4o-transcribe-aud-inp-glbl-extra"} {
		_, ok := parseAzureTokenMeter(name)
		assert.False(t, ok, name)
	}
	// A batch meter parses, but as another model than gpt-4: it matches no row.
	m, ok := parseAzureTokenMeter("gpt-4-8K-Batch-Inp-glbl")
	assert.True(t, ok)
	assert.NotEqual(t, "gpt 4", m.Model)
}

func TestTokensPerUnitAndTiers(t *testing.T) {
	for unit, want := range map[string]float64{"1K": 1e3, "1M": 1e6, "1K tokens": 1e3, "1M Tokens": 1e6} {
		got, ok := tokensPerUnit(unit)
		assert.True(t, ok, unit)
		assert.Equal(t, want, got, unit)
	}
	_, ok := tokensPerUnit("1 Hour")
	assert.False(t, ok)
	assert.Equal(t, 10000.0, decimalGB(10240))
	assert.Equal(t, 150000.0, decimalGB(153600))
	assert.Equal(t, 100.0, decimalGB(100))
	assert.Equal(t, 2.5, round9(0.0025*1e6/1e3))
	tiers := []tier{{0, 100, 0}, {100, 10000, 0.087}, {10000, 50000, 0.083}, {50000, inf, 0.07}}
	got, why := containing(tiers, 100, 10000)
	assert.Empty(t, why)
	assert.Equal(t, 0.087, got.usd)
	_, why = containing(tiers, 10000, inf)
	assert.Contains(t, why, "no one API tier holds 10000–∞ GB (tiers: 0–100 GB at 0; 100–10000 GB at 0.087; 10000–50000 GB at 0.083; 50000–∞ GB at 0.07)")
}

func TestRefreshedNote(t *testing.T) {
	assert.Equal(t, "Global deployment; retrieved from the X", refreshedNote("Global deployment; value not yet checked against the first-party page", "retrieved from the X"))
	assert.Equal(t, "retrieved from the X", refreshedNote("value not yet checked against the first-party page", "retrieved from the X"))
	assert.Equal(t, "a; b; retrieved from the Azure Retail Prices API (new)",
		refreshedNote("a; retrieved from the Azure Retail Prices API (old: m1, m2) via http://127.0.0.1:1; b", "retrieved from the Azure Retail Prices API (new)"))
}

func readTables(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"tokens.csv", "provisioned.csv", "egress.csv", "storage.csv", "exit.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		out[name] = string(data)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
