// The compiled part of the stand-in CLI11 (closure/fake-cli11/CMakeLists.txt).
int fake_cli11_compiled() { return 0; }
