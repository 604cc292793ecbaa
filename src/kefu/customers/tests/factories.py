import factory

from kefu.customers.models import Customer, Identity, Product, Shop


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"顾客{n}")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    kind = "phone"
    value = factory.Sequence(lambda n: f"+86139{n:08d}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    model_number = factory.Sequence(lambda n: f"KF-{n:04d}")
    name = "制氧机"
    category = "制氧机"


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"天猫旗舰店{n}")
    code = factory.Sequence(lambda n: f"shop{n}")
    platform = "tmall"
