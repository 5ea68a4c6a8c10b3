/* A stand-in for Windows' bcryptprimitives.dll, for running siptriage.exe under Wine 8.0 in
 * CI. Rust's standard library imports ProcessPrng from it (Windows 10 and later); Wine 8.0
 * does not export it. This fills the buffer from RtlGenRandom (advapi32's SystemFunction036),
 * which Wine has. Not shipped: Windows has the real DLL.
 *
 * Built by scripts/windows-check.sh:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

typedef BOOLEAN(WINAPI *gen_random)(PVOID, ULONG);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    static gen_random fill;
    if (!fill) {
        HMODULE advapi = LoadLibraryA("advapi32.dll");
        if (!advapi) return FALSE;
        fill = (gen_random)(void *)GetProcAddress(advapi, "SystemFunction036");
        if (!fill) return FALSE;
    }
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!fill(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
