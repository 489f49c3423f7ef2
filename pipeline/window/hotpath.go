package window

// recAt returns record k's entry and its current version (nil, nil when
// it has none): one lookup serves the version check and the write after it.
func (c *company) recAt(k recordKey) (*recEntry, *recState) {
	e := c.records[k]
	if e == nil {
		return nil, nil
	}
	return e, e.cur
}
