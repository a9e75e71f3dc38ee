"""What the user chose, kept in the .blend and the preferences: the PropertyGroups, the add-on preferences, where the voice/video/look comes from; no operator logic."""
