import factory

from kefu.accounts.models import Department, Membership, Team, User


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")
    code = factory.Sequence(lambda n: f"dept{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"小组{n}")
    department = factory.SubFactory(DepartmentFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"坐席{n}")
    role = "agent"
    password = factory.django.Password("kefu-test")

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            for team in extracted:
                Membership.objects.create(user=self, team=team)
