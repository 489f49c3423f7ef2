package sandboxkit

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// The sandboxes render their consent pages from the same markup, so one
// set of patterns reads all of them. They are compiled once and never
// written, so sharing them is safe.
var (
	hiddenInput    = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	selectedOption = regexp.MustCompile(`<option value="([^"]+)" selected>`)
	formAction     = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// ConsentPage describes how a platform's consent page differs from the
// others: which form field picks the tenant and the words its errors use
// (kept per platform so error messages read as they did before the
// sandboxes shared this code).
type ConsentPage struct {
	// Page names the page in errors: "consent" gives "load consent page".
	Page string
	// Action names the submission in errors: "consent" gives "submit
	// consent", "approval" gives "submit approval".
	Action string
	// TenantField is the form field that picks the tenant ("tenant_id",
	// "realm_id", "role", "subdomain"). "" means the page has no tenant
	// choice and the form is submitted as served.
	TenantField string
	// TenantNoun names the tenant in the error when the page preselects
	// none: "organisation" gives "consent page offers no organisation".
	TenantNoun string
}

// maxLinkRedirects bounds the redirects Approve follows to reach the page.
const maxLinkRedirects = 10

// Approve plays the user on the consent page: it loads authCodeURL with hc,
// following redirects as a browser does (a link of the gateway's answers
// 302 to the platform's page and sets a cookie in hc's jar), submits the
// form with consent=allow (and TenantField set to tenant, or to the
// preselected option when tenant is ""), and returns the redirect the
// sandbox answers with without following it. A redirect carrying code or
// error (the platform's answer to the redirect URI) is never followed: one
// answered instead of the page is returned as a URL too.
func (p ConsentPage) Approve(ctx context.Context, hc *http.Client, authCodeURL, tenant string) (*url.URL, error) {
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	toPage := *hc
	toPage.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if q := req.URL.Query(); q.Has("code") || q.Has("error") {
			return http.ErrUseLastResponse
		}
		if len(via) >= maxLinkRedirects {
			return fmt.Errorf("stopped after %d redirects", maxLinkRedirects)
		}
		return nil
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authCodeURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s page request: %w", p.Page, err)
	}
	resp, err := toPage.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load %s page: %w", p.Page, err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s page: %w", p.Page, err)
	}
	if resp.StatusCode != http.StatusOK {
		if loc := resp.Header.Get("Location"); loc != "" {
			return url.Parse(loc) // an error redirect (error=…)
		}
		return nil, fmt.Errorf("%s page answered %d: %s", p.Page, resp.StatusCode, page)
	}

	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if p.TenantField != "" {
		if tenant == "" {
			m := selectedOption.FindStringSubmatch(string(page))
			if m == nil {
				return nil, fmt.Errorf("%s page offers no %s", p.Page, p.TenantNoun)
			}
			tenant = html.UnescapeString(m[1])
		}
		form.Set(p.TenantField, tenant)
	}
	form.Set("consent", "allow")

	m := formAction.FindStringSubmatch(string(page))
	if m == nil {
		return nil, errors.New(p.Page + " page has no form")
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, fmt.Errorf("%s form action: %w", p.Page, err)
	}
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%s form request: %w", p.Page, err)
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = noFollow.Do(post)
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", p.Action, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("%s answered %d: %s", p.Action, resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, fmt.Errorf("%s redirect: %w", p.Action, err)
	}
	return loc, nil
}
