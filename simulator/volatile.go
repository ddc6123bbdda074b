package simulator

// clearVolatile is a power cycle of every memory (Reboot): what is not
// retentive goes back to its power-on state.
func (s *Server) clearVolatile() {
	_, mems := s.memories()
	for _, m := range mems {
		m.powerCycle()
	}
}

// SetRetentive marks the parts of m that survive a reboot (Server.Reboot, a
// reboot fault); nil (the default) keeps nothing. plcsim --state marks
// holding registers and coils, or a plant's retentive tags.
func (m *Memory) SetRetentive(sel *Selection) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retain = sel
}

// Retentive returns the selection set by SetRetentive.
func (m *Memory) Retentive() *Selection {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.retain
}

// SetPowerOn records m's current contents as its power-on state, which a
// reboot restores to everything that is not retentive. Until it is called,
// the power-on state is the configuration's: zero tables, the configured
// FIFOs and files.
func (m *Memory) SetPowerOn() {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.snapshotLocked(m.all())
	m.powerOn = &p
}

// powerCycle restores the power-on state and keeps the retentive parts.
func (m *Memory) powerCycle() {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keep Snapshot
	if m.retain != nil {
		keep = m.snapshotLocked(m.retain)
	}
	m.restoreLocked(*m.powerOn, m.all())
	if m.retain != nil {
		m.restoreLocked(keep, m.retain)
	}
}
