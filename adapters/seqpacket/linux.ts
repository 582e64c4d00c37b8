/**
 * Linux constants used by the seqpacket layer. Their values are the same on
 * x86_64 and aarch64 (both use the generic socket and fcntl numbers); errno
 * numbers are in `src/transport/errno.ts`.
 *
 * @module
 */

/** Socket, message and file flags. */
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_PEERCRED = 17;
export const SCM_RIGHTS = 1;
export const SHUT_RDWR = 2;

export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;

/** The kernel's limit of descriptors in one SCM_RIGHTS message. */
export const SCM_MAX_FD = 253;

/** epoll. */
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x1;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
export const EPOLLONESHOT = 0x40000000;
/** poll(2). */
export const POLLIN = 0x1;

/** fcntl(2): duplicate a descriptor, close-on-exec. */
export const F_DUPFD_CLOEXEC = 1030;
/** fcntl(2): descriptor flags (FD_CLOEXEC) and file status flags (O_NONBLOCK). */
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const O_NONBLOCK = 0o4000;

/** statx(2), for the identity of socket files. */
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const STATX_TYPE = 0x1;
export const STATX_INO = 0x100;
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
