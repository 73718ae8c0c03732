/* Inert GSSAPI entry points for a statically linked libzmq (CMakeLists.txt, WARDEN_STATIC_DEPS).
 *
 * libzmq is built with its GSSAPI security mechanism, so its archive calls these eleven functions,
 * and the shared libgssapi_krb5 that would provide them maps seven libraries (the Kerberos set)
 * into every kernel: about 0.3 ms at exec and 0.45 MiB of RSS, measured. The kernel never asks for
 * GSSAPI: Jupyter's wire uses ZeroMQ's NULL mechanism, no socket sets ZMQ_GSSAPI_SERVER or
 * ZMQ_GSSAPI_PLAINTEXT, and libzmq creates its GSSAPI objects only when the socket's own mechanism
 * is GSSAPI; a peer whose greeting names another mechanism than ours fails the handshake before any
 * of this runs. So none of these is ever called. Should one be, it fails the way an unavailable
 * mechanism does (GSS_S_UNAVAILABLE), and libzmq drops that connection.
 *
 * Not exported: the executable's symbols are not in its dynamic table, so a library loaded later
 * (libcurl, dlopened by agent/http.c, with its own libgssapi_krb5) still gets the real ones. */
#include <gssapi/gssapi.h>

gss_OID GSS_C_NT_HOSTBASED_SERVICE = GSS_C_NO_OID;
gss_OID GSS_C_NT_USER_NAME = GSS_C_NO_OID;

static OM_uint32 unavailable(OM_uint32 *minor_status)
{
    if (minor_status)
        *minor_status = 0;
    return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_accept_sec_context(OM_uint32 *minor, gss_ctx_id_t *context, gss_cred_id_t cred,
                                 gss_buffer_t input, gss_channel_bindings_t bindings,
                                 gss_name_t *src_name, gss_OID *mech, gss_buffer_t output,
                                 OM_uint32 *ret_flags, OM_uint32 *time_rec,
                                 gss_cred_id_t *delegated)
{
    (void)context, (void)cred, (void)input, (void)bindings, (void)src_name, (void)mech;
    (void)output, (void)ret_flags, (void)time_rec, (void)delegated;
    return unavailable(minor);
}

OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time_req, gss_OID_set mechs,
                           gss_cred_usage_t usage, gss_cred_id_t *cred, gss_OID_set *actual_mechs,
                           OM_uint32 *time_rec)
{
    (void)name, (void)time_req, (void)mechs, (void)usage, (void)cred, (void)actual_mechs;
    (void)time_rec;
    return unavailable(minor);
}

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context, gss_buffer_t output)
{
    (void)context, (void)output;
    return unavailable(minor);
}

OM_uint32 gss_display_name(OM_uint32 *minor, gss_name_t name, gss_buffer_t output,
                           gss_OID *name_type)
{
    (void)name, (void)output, (void)name_type;
    return unavailable(minor);
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t input, gss_OID name_type,
                          gss_name_t *output)
{
    (void)input, (void)name_type, (void)output;
    return unavailable(minor);
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *context,
                               gss_name_t target, gss_OID mech, OM_uint32 req_flags,
                               OM_uint32 time_req, gss_channel_bindings_t bindings,
                               gss_buffer_t input, gss_OID *actual_mech, gss_buffer_t output,
                               OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
    (void)cred, (void)context, (void)target, (void)mech, (void)req_flags, (void)time_req;
    (void)bindings, (void)input, (void)actual_mech, (void)output, (void)ret_flags;
    (void)time_rec;
    return unavailable(minor);
}

OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer)
{
    (void)buffer;
    return unavailable(minor);
}

OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred)
{
    (void)cred;
    return unavailable(minor);
}

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name)
{
    (void)name;
    return unavailable(minor);
}

OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context, gss_buffer_t input,
                     gss_buffer_t output, int *conf_state, gss_qop_t *qop_state)
{
    (void)context, (void)input, (void)output, (void)conf_state, (void)qop_state;
    return unavailable(minor);
}

OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf_req, gss_qop_t qop,
                   gss_buffer_t input, int *conf_state, gss_buffer_t output)
{
    (void)context, (void)conf_req, (void)qop, (void)input, (void)conf_state, (void)output;
    return unavailable(minor);
}
