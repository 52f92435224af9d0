int shared_value(void) { return 2; }
