# Writes a C++ file defining `std::string_view NAMESPACE::FUNCTION()`, which returns the text
# of the file IN.
file(READ ${IN} text)
set(body "#include <string_view>\n\nnamespace ${NAMESPACE} {\n\n")
string(APPEND body "std::string_view ${FUNCTION}() {\n")
string(APPEND body "    return R\"scimd_text(${text})scimd_text\";\n}\n\n")
string(APPEND body "}  // namespace ${NAMESPACE}\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
