package io.holdfast.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PasswordHashTest {
    /** Vectors computed with Python's hashlib: base64(salt || H(salt || password)), salt "ABCD". */
    @Test
    void readsHashesInRabbitMqsFormatForEachAlgorithm() {
        assertThat(new PasswordHash(PasswordHash.SHA256, "QUJDRBs/RdYCCx5vbTOhfiPa0Q301lOtUBlGw0Wb6d+0Br3N")
                .matches("guest")).isTrue();
        assertThat(new PasswordHash(PasswordHash.SHA512, "QUJDRJYJY/It/A8LvQckAzSQwC9T0kZZkft+pmncL5PiFl/JFowjsGVoRGfG"
                + "AIIcs3GRDE4Ggqe4Ft5b3OHTQEkEGIo=").matches("guest")).isTrue();
        assertThat(new PasswordHash(PasswordHash.MD5, "QUJDRAutVG1Bo2EIoR4uyiJlPzs=").matches("guest")).isTrue();
        assertThat(new PasswordHash(PasswordHash.SHA256, "AQIDBPwtq5ZIwNBPpzi5rjcenzm3jkMbdjQ9/km2mOuj20ER")
                .matches("pässwörd")).as("UTF-8").isTrue();
        assertThat(new PasswordHash(PasswordHash.SHA256, "QUJDRBs/RdYCCx5vbTOhfiPa0Q301lOtUBlGw0Wb6d+0Br3N")
                .matches("guesT")).isFalse();
    }

    @Test
    void newHashesAreSaltedSha256AndNeverHoldThePassword() {
        PasswordHash a = PasswordHash.of("s3cret");
        PasswordHash b = PasswordHash.of("s3cret");
        assertThat(a.algorithm()).isEqualTo(PasswordHash.SHA256);
        assertThat(a.hash()).isNotEqualTo(b.hash()).doesNotContain("s3cret");
        assertThat(a.matches("s3cret")).isTrue();
        assertThat(a.matches("s3cret ")).isFalse();
    }

    @Test
    void anUnknownAlgorithmOrAHashThatIsNotBase64IsRefusedWithTheReason() {
        assertThatThrownBy(() -> new PasswordHash("bcrypt", "QUJDRAutVG1Bo2EIoR4uyiJlPzs="))
                .hasMessageContaining("unknown hashing_algorithm 'bcrypt'");
        assertThatThrownBy(() -> new PasswordHash(PasswordHash.SHA256, "%%%")).hasMessageContaining("not base64");
        assertThatThrownBy(() -> new PasswordHash(PasswordHash.SHA256, "QUJD")).hasMessageContaining("too short");
    }
}
