package pricerefresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// AWSPriceListURL is the host of the AWS Price List Bulk API: public offer
// files, no credentials (the Price List Query API needs SigV4-signed
// requests, so refresh does not use it).
const AWSPriceListURL = "https://pricing.us-east-1.amazonaws.com"

// awsAPIName names the API in notes and messages.
const awsAPIName = "AWS Price List Bulk API"

// awsIndexPath is the offer index: one entry per service (offer code) with
// the path of its current region index.
const awsIndexPath = "/offers/v1.0/aws/index.json"

// awsProduct is one product of an offer file.
type awsProduct struct {
	SKU           string            `json:"sku"`
	ProductFamily string            `json:"productFamily"`
	Attributes    map[string]string `json:"attributes"`
}

// awsDimension is one price dimension of an OnDemand term: a price per
// unit for usage between BeginRange and EndRange ("Inf" for no end).
type awsDimension struct {
	Unit         string            `json:"unit"`
	BeginRange   string            `json:"beginRange"`
	EndRange     string            `json:"endRange"`
	Description  string            `json:"description"`
	PricePerUnit map[string]string `json:"pricePerUnit"`
}

type awsTerm struct {
	PriceDimensions map[string]awsDimension `json:"priceDimensions"`
}

// awsOffer is what refresh keeps of one region's offer file: the products
// a rule may match, and their OnDemand terms.
type awsOffer struct {
	// URL is the offer file's URL on the official API: the exact
	// (dated) version read, which the tables cite.
	URL      string
	Service  string
	Region   string
	Products []awsProduct
	// OnDemand maps a SKU to its OnDemand terms.
	OnDemand map[string][]awsTerm
}

// awsClient walks the Bulk API from the offer index to region offers.
type awsClient struct {
	f        *priceFetcher
	endpoint string
	// regionIndex maps an offer code to its current region index path,
	// read once from the offer index.
	regionIndex map[string]string
}

func (c *awsClient) resolve(ref string) (string, error) {
	base, err := url.Parse(strings.TrimRight(c.endpoint, "/") + "/")
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(r).String(), nil
}

// offer fetches service's offer for region, keeping the products keep
// accepts.
func (c *awsClient) offer(ctx context.Context, service, region string, keep func(*awsProduct) bool) (*awsOffer, error) {
	if c.regionIndex == nil {
		u, err := c.resolve(awsIndexPath)
		if err != nil {
			return nil, &FetchError{URL: c.endpoint, Err: err}
		}
		var idx struct {
			Offers map[string]struct {
				CurrentRegionIndexURL string `json:"currentRegionIndexUrl"`
			} `json:"offers"`
		}
		if err := c.f.get(ctx, u, func(r io.Reader) error { return decodeJSON(r, &idx, "an offer index (offers by offer code)") }); err != nil {
			return nil, err
		}
		c.regionIndex = map[string]string{}
		for code, o := range idx.Offers {
			c.regionIndex[code] = o.CurrentRegionIndexURL
		}
	}
	ri := c.regionIndex[service]
	if ri == "" {
		u, _ := c.resolve(awsIndexPath)
		return nil, &FetchError{URL: u, Err: fmt.Errorf("offer index has no currentRegionIndexUrl for %s", service)}
	}
	riURL, err := c.resolve(ri)
	if err != nil {
		return nil, &FetchError{URL: ri, Err: err}
	}
	var regions struct {
		Regions map[string]struct {
			CurrentVersionURL string `json:"currentVersionUrl"`
		} `json:"regions"`
	}
	if err := c.f.get(ctx, riURL, func(r io.Reader) error {
		return decodeJSON(r, &regions, "a region index (regions with currentVersionUrl)")
	}); err != nil {
		return nil, err
	}
	path := regions.Regions[region].CurrentVersionURL
	if path == "" {
		return nil, &FetchError{URL: riURL, Err: fmt.Errorf("region index of %s has no currentVersionUrl for %s", service, region)}
	}
	offerURL, err := c.resolve(path)
	if err != nil {
		return nil, &FetchError{URL: path, Err: err}
	}
	o := &awsOffer{Service: service, Region: region}
	o.URL, _ = officialURL(offerURL, c.endpoint, AWSPriceListURL)
	if err := c.f.get(ctx, offerURL, func(r io.Reader) error { return decodeAWSOffer(r, o, keep) }); err != nil {
		return nil, err
	}
	return o, nil
}

func decodeJSON(r io.Reader, v any, what string) error {
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("not %s: %w", what, err)
	}
	return nil
}

// decodeAWSOffer reads an offer file token by token: offers run to hundreds
// of MB, so only the products keep accepts, and their OnDemand terms, are
// held in memory; everything else (Reserved terms, other products) is
// read past. Offer files list products before terms; should terms come
// first, every OnDemand term is kept.
func decodeAWSOffer(r io.Reader, o *awsOffer, keep func(*awsProduct) bool) error {
	dec := json.NewDecoder(r)
	bad := func(err error) error {
		return fmt.Errorf("not an AWS offer file (products and terms.OnDemand) at byte %d: %w", dec.InputOffset(), err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return bad(err)
	}
	kept := map[string]bool{}
	productsSeen, termsSeen := false, false
	o.OnDemand = map[string][]awsTerm{}
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return bad(err)
		}
		switch key {
		case "products":
			productsSeen = true
			if err := eachMember(dec, func(sku string) error {
				var p awsProduct
				if err := dec.Decode(&p); err != nil {
					return fmt.Errorf("product %s: %w", sku, err)
				}
				if p.SKU == "" {
					p.SKU = sku
				}
				if keep(&p) {
					kept[p.SKU] = true
					o.Products = append(o.Products, p)
				}
				return nil
			}); err != nil {
				return bad(err)
			}
		case "terms":
			termsSeen = true
			if err := eachMember(dec, func(termType string) error {
				if termType != "OnDemand" {
					return skipValue(dec)
				}
				return eachMember(dec, func(sku string) error {
					if productsSeen && !kept[sku] {
						return skipValue(dec)
					}
					var terms map[string]awsTerm
					if err := dec.Decode(&terms); err != nil {
						return fmt.Errorf("terms.OnDemand.%s: %w", sku, err)
					}
					for _, t := range terms {
						o.OnDemand[sku] = append(o.OnDemand[sku], t)
					}
					return nil
				})
			}); err != nil {
				return bad(err)
			}
		default:
			if err := skipValue(dec); err != nil {
				return bad(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	if !productsSeen || !termsSeen {
		return bad(errors.New("no products or no terms"))
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, t)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	k, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("expected an object key, found %v", t)
	}
	return k, nil
}

// eachMember calls fn with each key of the object that comes next; fn
// must consume the key's value.
func eachMember(dec *json.Decoder, fn func(key string) error) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		k, err := objectKey(dec)
		if err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// skipValue reads past the next value without keeping it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// awsTier is one priced range of an AWS price dimension, in the
// dimension's unit.
type awsTier struct {
	From, To float64 // To is +Inf for "Inf"
	USD      float64
	Unit     string
}

// tiers returns the USD price dimensions of sku's single OnDemand term,
// sorted by start; an error says why they cannot be used.
func (o *awsOffer) tiers(sku string) ([]awsTier, error) {
	terms := o.OnDemand[sku]
	if len(terms) != 1 {
		return nil, fmt.Errorf("SKU %s has %d OnDemand terms, not 1", sku, len(terms))
	}
	var out []awsTier
	for _, d := range terms[0].PriceDimensions {
		usd, err := strconv.ParseFloat(d.PricePerUnit["USD"], 64)
		if err != nil {
			return nil, fmt.Errorf("SKU %s: price %q is not a USD amount", sku, d.PricePerUnit["USD"])
		}
		t := awsTier{USD: usd, Unit: d.Unit}
		if t.From, err = parseRange(d.BeginRange, 0); err != nil {
			return nil, fmt.Errorf("SKU %s: beginRange %q: %w", sku, d.BeginRange, err)
		}
		if t.To, err = parseRange(d.EndRange, inf); err != nil {
			return nil, fmt.Errorf("SKU %s: endRange %q: %w", sku, d.EndRange, err)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("SKU %s has no price dimensions", sku)
	}
	sortTiers(out)
	return out, nil
}

func parseRange(s string, empty float64) (float64, error) {
	switch s {
	case "":
		return empty, nil
	case "Inf", "inf", "Infinity":
		return inf, nil
	}
	return strconv.ParseFloat(s, 64)
}
