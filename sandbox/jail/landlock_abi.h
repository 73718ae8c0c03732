/* Landlock's user-space ABI, as upstream defines it (include/uapi/linux/landlock.h), for the
 * jail's Landlock mode. Private to sandbox/jail/. Debian 12's <linux/landlock.h> stops at ABI 2
 * (no TRUNCATE, no network rules, no scopes), so the values are written here, each with the ABI
 * that introduced it, and the system header is never included. Field names and sizes follow
 * upstream exactly: the kernel reads the structures by size, so a newer kernel accepts them and
 * an older one is handed only the fields its ABI knows (see jail_landlock.c). */
#ifndef WARDEN_LANDLOCK_ABI_H
#define WARDEN_LANDLOCK_ABI_H

#include <stdint.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule       445
#define __NR_landlock_restrict_self  446
#endif

/* struct landlock_ruleset_attr; each ABI grew it at the end */
struct ll_ruleset_attr {
    uint64_t handled_access_fs;  /* ABI 1 */
    uint64_t handled_access_net; /* ABI 4 */
    uint64_t scoped;             /* ABI 6 */
};
#define LL_RULESET_ATTR_SIZE_V1 8  /* ABI 1-3: handled_access_fs only */
#define LL_RULESET_ATTR_SIZE_V4 16 /* ABI 4-5: + handled_access_net */
#define LL_RULESET_ATTR_SIZE_V6 24 /* ABI 6+: + scoped */

#define LL_CREATE_RULESET_VERSION (1U << 0)

#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT     2 /* ABI 4 */

struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr { /* ABI 4 */
    uint64_t allowed_access;
    uint64_t port;
};

/* filesystem rights */
#define LL_FS_EXECUTE     (1ULL << 0)
#define LL_FS_WRITE_FILE  (1ULL << 1)
#define LL_FS_READ_FILE   (1ULL << 2)
#define LL_FS_READ_DIR    (1ULL << 3)
#define LL_FS_REMOVE_DIR  (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR   (1ULL << 6)
#define LL_FS_MAKE_DIR    (1ULL << 7)
#define LL_FS_MAKE_REG    (1ULL << 8)
#define LL_FS_MAKE_SOCK   (1ULL << 9)
#define LL_FS_MAKE_FIFO   (1ULL << 10)
#define LL_FS_MAKE_BLOCK  (1ULL << 11)
#define LL_FS_MAKE_SYM    (1ULL << 12)
#define LL_FS_REFER       (1ULL << 13) /* ABI 2: link/rename across directories */
#define LL_FS_TRUNCATE    (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV   (1ULL << 15) /* ABI 5 */

/* the rights that make sense on a file (not a directory): a rule on a file with others is EINVAL */
#define LL_FS_FILE_RIGHTS                                                                          \
    (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* network rights (ABI 4) */
#define LL_NET_BIND_TCP    (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)

/* scopes (ABI 6) */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL               (1ULL << 1)

#endif
