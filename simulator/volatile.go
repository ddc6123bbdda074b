package simulator

// clearVolatile clears the memory a PLC loses in a power cycle (Reboot).
// Today the model has no retentive memory, so every table, FIFO and file
// goes back to zero.
func (s *Server) clearVolatile() {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.coils)
	clear(m.discrete)
	clear(m.holding)
	clear(m.input)
	clear(m.fifo)
	clear(m.files)
}
