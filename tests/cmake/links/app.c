int archive_value(void);
int shared_value(void);

int main(void) { return archive_value() + shared_value() == 3 ? 0 : 1; }
