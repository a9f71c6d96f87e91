// Typed wrappers around libcurl's variadic calls, which Swift cannot call directly.
#ifndef ETCH_CCURL_SHIM_H
#define ETCH_CCURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*etch_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*etch_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                      curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode etch_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode etch_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode etch_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode etch_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode etch_setopt_offt(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode etch_setopt_write_function(CURL *h, etch_write_callback f) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode etch_setopt_xferinfo_function(CURL *h, etch_xferinfo_callback f) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f);
}
typedef size_t (*etch_read_callback)(char *buffer, size_t size, size_t nitems, void *userdata);
static inline CURLcode etch_setopt_read_function(CURL *h, etch_read_callback f) {
    return curl_easy_setopt(h, CURLOPT_READFUNCTION, f);
}
static const size_t ETCH_READFUNC_PAUSE = CURL_READFUNC_PAUSE;
static const CURLoption ETCH_OPT_READDATA = CURLOPT_READDATA;
static const int ETCH_PAUSE_CONT = CURLPAUSE_CONT;
static const short ETCH_WAIT_POLLIN = CURL_WAIT_POLLIN;

static inline CURLcode etch_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode etch_getinfo_offt(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
typedef int (*etch_sockopt_callback)(void *userdata, curl_socket_t fd, curlsocktype purpose);
static inline CURLcode etch_setopt_sockopt_function(CURL *h, etch_sockopt_callback f) {
    return curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, f);
}
static const CURLoption ETCH_OPT_SOCKOPTDATA = CURLOPT_SOCKOPTDATA;

static inline curl_socket_t etch_active_socket(CURL *h) {
    curl_socket_t s = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK) return CURL_SOCKET_BAD;
    return s;
}
static inline CURLcode etch_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }

// Option and info constants, as plain values: some are macros Swift does not import.
static const CURLoption ETCH_OPT_URL = CURLOPT_URL;
static const CURLoption ETCH_OPT_POST = CURLOPT_POST;
static const CURLoption ETCH_OPT_HTTPGET = CURLOPT_HTTPGET;
static const CURLoption ETCH_OPT_POSTFIELDS = CURLOPT_POSTFIELDS;
static const CURLoption ETCH_OPT_POSTFIELDSIZE_LARGE = CURLOPT_POSTFIELDSIZE_LARGE;
static const CURLoption ETCH_OPT_HTTPHEADER = CURLOPT_HTTPHEADER;
static const CURLoption ETCH_OPT_WRITEDATA = CURLOPT_WRITEDATA;
static const CURLoption ETCH_OPT_XFERINFODATA = CURLOPT_XFERINFODATA;
static const CURLoption ETCH_OPT_NOPROGRESS = CURLOPT_NOPROGRESS;
static const CURLoption ETCH_OPT_NOSIGNAL = CURLOPT_NOSIGNAL;
static const CURLoption ETCH_OPT_CONNECTTIMEOUT_MS = CURLOPT_CONNECTTIMEOUT_MS;
static const CURLoption ETCH_OPT_TIMEOUT_MS = CURLOPT_TIMEOUT_MS;
static const CURLoption ETCH_OPT_ERRORBUFFER = CURLOPT_ERRORBUFFER;
static const CURLoption ETCH_OPT_CAINFO = CURLOPT_CAINFO;
static const CURLoption ETCH_OPT_SSLCERT = CURLOPT_SSLCERT;
static const CURLoption ETCH_OPT_SSLKEY = CURLOPT_SSLKEY;
static const CURLoption ETCH_OPT_SSL_VERIFYPEER = CURLOPT_SSL_VERIFYPEER;
static const CURLoption ETCH_OPT_SSL_VERIFYHOST = CURLOPT_SSL_VERIFYHOST;
static const CURLoption ETCH_OPT_TCP_NODELAY = CURLOPT_TCP_NODELAY;
static const CURLoption ETCH_OPT_TCP_KEEPALIVE = CURLOPT_TCP_KEEPALIVE;
static const CURLoption ETCH_OPT_BUFFERSIZE = CURLOPT_BUFFERSIZE;
static const CURLoption ETCH_OPT_HTTP_VERSION = CURLOPT_HTTP_VERSION;
static const CURLoption ETCH_OPT_USERAGENT = CURLOPT_USERAGENT;
static const CURLoption ETCH_OPT_PROXY = CURLOPT_PROXY;
static const CURLoption ETCH_OPT_EXPECT_100_TIMEOUT_MS = CURLOPT_EXPECT_100_TIMEOUT_MS;

static const CURLINFO ETCH_INFO_RESPONSE_CODE = CURLINFO_RESPONSE_CODE;
static const CURLINFO ETCH_INFO_CONNECT_TIME_T = CURLINFO_CONNECT_TIME_T;
static const CURLINFO ETCH_INFO_TOTAL_TIME_T = CURLINFO_TOTAL_TIME_T;
static const CURLINFO ETCH_INFO_NUM_CONNECTS = CURLINFO_NUM_CONNECTS;
static const CURLINFO ETCH_INFO_REQUEST_SIZE = CURLINFO_REQUEST_SIZE;
static const CURLINFO ETCH_INFO_SIZE_UPLOAD_T = CURLINFO_SIZE_UPLOAD_T;
static const CURLINFO ETCH_INFO_SSL_VERIFYRESULT = CURLINFO_SSL_VERIFYRESULT;

static const long ETCH_HTTP_VERSION_1_1 = CURL_HTTP_VERSION_1_1;

#endif
