int archive_value(void) { return 1; }
