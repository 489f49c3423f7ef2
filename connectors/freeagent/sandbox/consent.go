package sandbox

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

var (
	hiddenInput    = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	selectedOption = regexp.MustCompile(`<option value="([^"]+)" selected>`)
	formAction     = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// Approve plays the user on the approve page: it loads authCodeURL with hc,
// submits "Approve" for subdomain ("" keeps the preselected company), and
// returns the redirect the sandbox answers with (redirect_uri?code=…&state=…)
// without following it. Other packages' tests use it to drive the
// authorization-code flow end to end.
func Approve(ctx context.Context, hc *http.Client, authCodeURL, subdomain string) (*url.URL, error) {
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authCodeURL, nil)
	if err != nil {
		return nil, fmt.Errorf("approve page request: %w", err)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load approve page: %w", err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read approve page: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		if loc := resp.Header.Get("Location"); loc != "" {
			return url.Parse(loc) // an error redirect (error=…)
		}
		return nil, fmt.Errorf("approve page answered %d: %s", resp.StatusCode, page)
	}

	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if subdomain == "" {
		m := selectedOption.FindStringSubmatch(string(page))
		if m == nil {
			return nil, errors.New("approve page offers no company")
		}
		subdomain = html.UnescapeString(m[1])
	}
	form.Set("subdomain", subdomain)
	form.Set("consent", "allow")

	m := formAction.FindStringSubmatch(string(page))
	if m == nil {
		return nil, errors.New("approve page has no form")
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, fmt.Errorf("approve form action: %w", err)
	}
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("approve form request: %w", err)
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = noFollow.Do(post)
	if err != nil {
		return nil, fmt.Errorf("submit approval: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("approval answered %d: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, fmt.Errorf("approval redirect: %w", err)
	}
	return loc, nil
}
