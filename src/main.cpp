#include "scimd/app/app.hpp"

int main(int argc, char** argv) { return scimd::app::main(argc, argv); }
