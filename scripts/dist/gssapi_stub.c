/* Debian's libgit2.a is built with GSSAPI (HTTP "Negotiate"/Kerberos auth), and Debian ships no
   static krb5. The dist binary links Debian's own libgit2.a (with every Debian security fix)
   and this stub instead: every GSSAPI call fails, so an https server that offers only
   Negotiate is refused with "could not query mechanisms"; Basic auth, https and ssh work.
   Linked into the dist binary only, never into a development build (where it would
   interpose on the real libgssapi_krb5 that libgit2.so loads). */
typedef unsigned int OM_uint32;
#define DRIFT_GSS_S_FAILURE (13u << 16)

void *GSS_C_NT_HOSTBASED_SERVICE = 0;

static OM_uint32 fail(OM_uint32 *minor) {
    if (minor) *minor = 0;
    return DRIFT_GSS_S_FAILURE;
}

OM_uint32 gss_indicate_mechs(OM_uint32 *minor, void **set) {
    if (set) *set = 0;
    return fail(minor);
}
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 v, int t, void *m, OM_uint32 *ctx, void *buf) {
    (void)v; (void)t; (void)m; (void)ctx; (void)buf;
    return fail(minor);
}
OM_uint32 gss_import_name(OM_uint32 *minor, void *buf, void *type, void **name) {
    (void)buf; (void)type;
    if (name) *name = 0;
    return fail(minor);
}
OM_uint32 gss_init_sec_context(OM_uint32 *minor, void *cred, void **ctx, void *name, void *mech,
                               OM_uint32 flags, OM_uint32 time, void *chan, void *in, void **amech,
                               void *out, OM_uint32 *rflags, OM_uint32 *rtime) {
    (void)cred; (void)ctx; (void)name; (void)mech; (void)flags; (void)time; (void)chan; (void)in;
    (void)amech; (void)out; (void)rflags; (void)rtime;
    return fail(minor);
}
OM_uint32 gss_delete_sec_context(OM_uint32 *minor, void **ctx, void *out) {
    (void)out;
    if (ctx) *ctx = 0;
    if (minor) *minor = 0;
    return 0;
}
OM_uint32 gss_release_buffer(OM_uint32 *minor, void *buf) {
    (void)buf;
    if (minor) *minor = 0;
    return 0;
}
OM_uint32 gss_release_name(OM_uint32 *minor, void **name) {
    if (name) *name = 0;
    if (minor) *minor = 0;
    return 0;
}
OM_uint32 gss_release_oid_set(OM_uint32 *minor, void **set) {
    if (set) *set = 0;
    if (minor) *minor = 0;
    return 0;
}
